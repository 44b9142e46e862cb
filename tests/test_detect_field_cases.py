"""Columns as real exports write them, which a red-team pass found misread: a header
over words no list holds, other countries' postcodes, numbers of the size of ages,
phones a spreadsheet stored as numbers, zero-padded file numbers, UUID keys."""

from __future__ import annotations

import random
import string
import uuid

import polars as pl
import pytest

from triage.detect import TableDetector
from triage.detect.vocab import word_list

N = 400


def verdicts(columns: dict[str, list[str]]) -> dict[str, str | None]:
    detector = TableDetector()
    detector.update(pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String)))
    return {finding.name: finding.category for finding in detector.finish()}


def invented_words(rng: random.Random, count: int) -> list[str]:
    """Capitalised words in no name or city list (checked), as a foreign leak's are."""
    known = set(word_list("last_names").to_list()) | set(word_list("first_names").to_list()) \
        | set(word_list("cities").to_list())
    words: list[str] = []
    while len(words) < count:
        word = "".join(rng.choice("bdgklmnprstvz") + rng.choice("aeiouy")
                       for _ in range(rng.randint(2, 4))).capitalize()
        if word.lower() not in known:
            words.append(word)
    return words


def test_a_name_or_city_header_needs_only_some_known_words_below_it() -> None:
    rng = random.Random(1)
    lasts, firsts, cities = (word_list(name).to_list() for name in
                             ("last_names", "first_names", "cities"))

    def mostly_invented(known: list[str]) -> list[str]:
        # One value in six a known word: no list holds most of a country's names.
        words = invented_words(rng, N)
        return [rng.choice(known).title() if i % 6 == 0 else w for i, w in enumerate(words)]

    # Residents share towns: the known ones come back (a city column whose every value
    # is another town reads as a list of places, not of where people live).
    towns = rng.sample([c for c in cities if c.isalpha()], 30)
    found = verdicts({"surname": mostly_invented(lasts), "first_name": mostly_invented(firsts),
                      "city": mostly_invented(towns)})
    assert found == {"surname": "last_name", "first_name": "first_name", "city": "city"}


def test_a_products_name_column_is_not_taken_for_people() -> None:
    # Under the same headers, words none of which is a name stay unclassified: a header
    # alone would type every `name` column of a shop's dump.
    rng = random.Random(2)
    found = verdicts({"name": invented_words(rng, N), "last_name": invented_words(rng, N)})
    assert found == {"name": None, "last_name": None}


def test_street_types_of_more_countries_make_addresses() -> None:
    rng = random.Random(3)
    nordic = [f"{w.capitalize()}{rng.choice(['vej', 'gatan', 'gade'])} {rng.randint(1, 99)}"
              for w in invented_words(rng, N)]
    polish = [f"ul. {w} {rng.randint(1, 300)}" for w in invented_words(rng, N)]
    assert verdicts({"C1": nordic, "C2": polish}) == {"C1": "postal_address",
                                                      "C2": "postal_address"}


def test_an_address_header_over_places_that_are_not_streets_is_no_address() -> None:
    # A warehouse's bins and a server's rack have words and numbers too: without a
    # street word they are not addresses, header or not (so Czech addresses, which
    # name no street type, go unclassified: docs/detection.md).
    rng = random.Random(10)
    bins = [f"Aisle {rng.randint(1, 40)} Shelf {rng.choice('ABCDEF')}" for _ in range(N)]
    racks = [f"node {rng.randint(1, 9)} rack {rng.randint(1, 30)}" for _ in range(N)]
    assert verdicts({"address": bins, "server_address": racks}) == {
        "address": None, "server_address": None}


def test_prices_written_without_trailing_zeros_are_not_lab_results() -> None:
    # str(19.90) is "19.9": prices ending .90 and .50 have one decimal, which once read
    # as the mixed precision of lab results, a special category.
    rng = random.Random(11)
    prices = [str(rng.randint(1, 300) + rng.choice([0.99, 0.9, 0.5, 0.95, 0.49, 0.45]))
              for _ in range(N)]
    assert sum(len(p.split(".")[1]) == 1 for p in prices) > N // 5
    assert verdicts({"price": prices})["price"] is None


def test_results_of_mixed_analyses_are_still_lab_results() -> None:
    rng = random.Random(12)
    results = [rng.choice([f"{rng.uniform(0.5, 1.5):.2f}", str(rng.randint(150, 400)),
                           f"{rng.uniform(4, 15):.1f}"]) for _ in range(N)]
    assert verdicts({"C1": results})["C1"] == "lab_result"


@pytest.mark.parametrize("shape", ["{:02d}-{:03d}", "{:03d} {:02d}"])
def test_other_countries_postcodes_under_a_postcode_header(shape: str) -> None:
    rng = random.Random(4)
    codes = [shape.format(rng.randint(10, 99), rng.randint(10, 99)) for _ in range(N)]
    danish = [str(rng.randint(1000, 9990)) for _ in range(N)]
    assert verdicts({"postcode": codes, "zip": danish, "C3": danish}) == {
        "postcode": "postcode", "zip": "postcode", "C3": None}


def test_zero_padded_file_numbers_are_not_postcodes() -> None:
    numbers = [f"{i:05d}" for i in range(1, N + 1)]
    found = verdicts({"num_dossier": numbers, "C2": numbers})
    assert found["num_dossier"] == "record_id"
    assert found["C2"] != "postcode"


def test_measures_the_size_of_ages_are_not_ages_without_a_header() -> None:
    rng = random.Random(5)
    ages = [str(min(99, max(0, int(rng.gauss(45, 22))))) for _ in range(N)]
    found = verdicts({
        "C1": [str(int(rng.gauss(75, 14))) for _ in range(N)],  # weights in kg
        "C2": [str(int(rng.gauss(76, 12))) for _ in range(N)],  # pulses
        "C3": [str(rng.randint(1, 60)) for _ in range(N)],  # days in hospital
        "C4": [str(int(rng.gauss(38, 12))) for _ in range(N)],  # test scores
        "C5": [str(rng.randint(18, 65)) for _ in range(N)],  # temperatures
        "C6": ages,
    })
    assert found == {"C1": None, "C2": None, "C3": None, "C4": None, "C5": None, "C6": "age"}


def test_phones_stored_as_numbers_are_phones_under_a_phone_header() -> None:
    rng = random.Random(6)
    stripped = [f"{rng.choice('67')}{rng.randint(10_000_000, 99_999_999)}" for _ in range(N)]
    found = verdicts({"tel": stripped, "C2": stripped})
    assert found["tel"] == "phone"
    assert found["C2"] != "phone"  # nine bare digits are as likely a key


def test_a_uuid_key_is_a_record_key_under_its_header_and_tracking_id_without() -> None:
    rng = random.Random(7)
    keys = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(N)]
    assert verdicts({"id": keys, "C2": keys}) == {"id": "record_id", "C2": "online_id"}


def test_invented_words_are_in_no_list() -> None:
    words = invented_words(random.Random(8), 50)
    assert all(set(w.lower()) <= set(string.ascii_lowercase) for w in words)
    known = set(word_list("last_names").to_list())
    assert not any(w.lower() in known for w in words)


def test_a_generic_national_id_header_keeps_the_scheme_its_values_show() -> None:
    rng = random.Random(9)

    def nir() -> str:
        body = (f"{rng.choice('12')}{rng.randint(30, 99):02d}{rng.randint(1, 12):02d}"
                f"{rng.randint(1, 95):02d}{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}")
        return f"{body}{97 - int(body) % 97:02d}"

    detector = TableDetector()
    detector.update(pl.DataFrame({"national_id": [nir() for _ in range(N)]}))
    (finding,) = detector.finish()
    assert (finding.category, finding.subtype) == ("national_id", "fr_nir")
    assert finding.evidence["header"]["key"] == "national_id"
    assert finding.evidence["values"]["valid_share"] == 1.0
