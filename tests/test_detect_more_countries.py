"""National ids, headers and clinical shorthand of more countries.

PESEL, CPR, rodné číslo, CNP, personnummer and T.C. Kimlik columns are typed with
their subtype, with or without their local header, and reach the identity plan in
one compact form; numbers of the same shape that are not such ids (random numbers,
phone numbers, dated invoice numbers) are not typed as national ids. Headers in
Polish, Czech, Romanian, Danish, Swedish and Turkish name their keys; notes written
in clinical abbreviations are health data, business comments are not.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable

import polars as pl
import pytest
from stdnum import luhn
from stdnum.pl import pesel
from stdnum.ro import cnp
from stdnum.tr import tckimlik

from triage.detect import TableDetector
from triage.detect.headers import match_header
from triage.identity.canonical import Canonicaliser
from triage.profile import TableProfile
from triage.scan import identity_plan

ROWS = 300

# -- generators: valid ids of people born 1935-2007 ----------------------------------


def _born(rng: random.Random) -> dt.date:
    return dt.date(1935, 1, 1) + dt.timedelta(days=rng.randint(0, 73 * 365))


def _pesel(rng: random.Random, born: dt.date) -> str:
    month = born.month + (20 if born.year >= 2000 else 0)
    body = f"{born:%y}{month:02d}{born:%d}{rng.randint(0, 9999):04d}"
    return body + pesel.calc_check_digit(body)


def _cpr(rng: random.Random, born: dt.date) -> str:
    # The serial's first digit gives the century: 0-3 the 1900s, 4 with a year < 37 the 2000s.
    century_digit = rng.randint(0, 3) if born.year < 2000 else 4
    return f"{born:%d%m%y}-{century_digit}{rng.randint(0, 999):03d}"


def _rodne_cislo(rng: random.Random, born: dt.date) -> str:
    month = born.month + (50 if rng.random() < 0.5 else 0)
    body = f"{born:%y}{month:02d}{born:%d}{rng.randint(0, 999):03d}"
    if born.year < 1954:
        return f"{body[:6]}/{body[6:]}"  # 9 digits, no check digit before 1954
    return f"{body[:6]}/{body[6:]}{int(body) % 11 % 10}"


def _cnp(rng: random.Random, born: dt.date) -> str:
    sex_century = rng.choice("12") if born.year < 2000 else rng.choice("56")
    body = f"{sex_century}{born:%y%m%d}{rng.randint(1, 40):02d}{rng.randint(0, 999):03d}"
    return body + cnp.calc_check_digit(body)


def _personnummer(rng: random.Random, born: dt.date) -> str:
    body = f"{born:%y%m%d}{rng.randint(0, 999):03d}"
    return f"{body[:6]}-{body[6:]}{luhn.calc_check_digit(body)}"


def _tckimlik(rng: random.Random, born: dt.date) -> str:
    body = f"{rng.randint(1, 9)}{rng.randint(0, 99_999_999):08d}"
    return body + tckimlik.calc_check_digits(body)


#: subtype -> (generator, the header its country's exports use)
COUNTRIES: dict[str, tuple[Callable[[random.Random, dt.date], str], str]] = {
    "pl_pesel": (_pesel, "PESEL"),
    "dk_cpr": (_cpr, "CPR-nr"),
    "cz_rc": (_rodne_cislo, "Rodné číslo"),
    "ro_cnp": (_cnp, "CNP"),
    "se_personnummer": (_personnummer, "Personnummer"),
    "tr_tckimlik": (_tckimlik, "TC Kimlik No"),
}


def _ids(subtype: str, seed: int = 7) -> list[str]:
    generate = COUNTRIES[subtype][0]
    rng = random.Random(seed)
    return [generate(rng, _born(rng)) for _ in range(ROWS)]


def _look_alikes(seed: int = 11) -> dict[str, list[str]]:
    """Columns of the ids' shapes that hold no national id."""
    rng = random.Random(seed)

    def digits(n: int) -> str:
        return f"{rng.randint(10 ** (n - 1), 10 ** n - 1)}"

    def invoice() -> str:  # DDMMYY of 2022-2024 + a counter
        day = dt.date(2022, 1, 1) + dt.timedelta(days=rng.randint(0, 900))
        return f"{day:%d%m%y}-{rng.randint(0, 4999):04d}"

    columns: dict[str, Callable[[], str]] = {
        "random_10": lambda: digits(10),
        "random_11": lambda: digits(11),
        "random_13": lambda: digits(13),
        "random_dashed": lambda: f"{digits(6)}-{digits(4)}",
        "random_slashed": lambda: f"{digits(6)}/{digits(4)}",
        # Swedish mobiles as some exports write them: 77 % are valid CPRs (born on the 7th).
        "mobile_se": lambda: f"070{rng.randint(0, 9_999_999):07d}",
        "mobile_fr": lambda: f"06{rng.randint(0, 99_999_999):08d}",
        "mobile_pl_intl": lambda: f"48{rng.choice('5678')}{rng.randint(0, 99_999_999):08d}",
        "invoice_no": invoice,
    }
    return {name: [make() for _ in range(ROWS)] for name, make in columns.items()}


def _verdicts(frame: pl.DataFrame) -> dict[str, tuple[str | None, str | None]]:
    detector = TableDetector()
    detector.update(frame)
    return {f.name: (f.category, f.subtype) for f in detector.finish()}


# -- national ids ----------------------------------------------------------------------


@pytest.mark.parametrize("subtype", sorted(COUNTRIES))
def test_national_ids_are_found_and_their_look_alikes_are_not(subtype: str) -> None:
    ids = _ids(subtype)
    header = COUNTRIES[subtype][1]
    look_alikes = _look_alikes()
    verdicts = _verdicts(pl.DataFrame({"col_3": ids, header: ids, **look_alikes}))
    assert verdicts["col_3"] == ("national_id", subtype)
    assert verdicts[header] == ("national_id", subtype)
    taken = {name: verdicts[name] for name in look_alikes if verdicts[name][0] == "national_id"}
    assert taken == {}


@pytest.mark.parametrize("subtype", sorted(COUNTRIES))
def test_new_national_ids_reach_the_identity_plan_in_one_compact_form(subtype: str) -> None:
    # A column named by no header: its values alone must make it an identifier.
    ids = _ids(subtype)
    frame = pl.DataFrame({"col_3": ids})
    detector = TableDetector()
    detector.update(frame)
    profile = TableProfile()
    profile.update(frame)
    plan, _, _ = identity_plan({f.name: f for f in detector.finish()}, profile)
    assert plan["col_3"].kind == "national_id"
    canonicaliser = Canonicaliser(plan["col_3"].kind)
    bare = [re.sub(r"\D", "", value) for value in ids]
    spaced = [f" {value[:3]} {value[3:]} " for value in ids]
    assert canonicaliser.series(pl.Series(ids)).to_list() == bare
    assert canonicaliser.series(pl.Series(bare)).to_list() == bare
    assert canonicaliser.series(pl.Series(spaced)).to_list() == bare


# -- headers ---------------------------------------------------------------------------


@pytest.mark.parametrize(("header", "key"), [
    # Polish
    ("Nazwisko", "last_name"), ("Imię", "first_name"), ("Imie", "first_name"),
    ("Imię i nazwisko", "full_name"), ("Data urodzenia", "birth_date"), ("Ulica", "postal_address"),
    ("Miejscowość", "city"), ("Kod pocztowy", "postcode"), ("Komórka", "phone"),
    ("Poczta elektroniczna", "email"), ("Płeć", "sex"), ("Plec", "sex"), ("PESEL", "pl_pesel"),
    ("Numer ubezpieczenia", "health_insurance_id"),
    # Czech
    ("Příjmení", "last_name"), ("Prijmeni", "last_name"), ("Jméno", "first_name"),
    ("Jméno a příjmení", "full_name"), ("Datum narození", "birth_date"), ("Ulice", "postal_address"),
    ("Obec", "city"), ("PSČ", "postcode"), ("Mobil", "phone"), ("Emailová adresa", "email"),
    ("Pohlaví", "sex"),
    ("Rodné číslo", "cz_rc"), ("RČ", "cz_rc"), ("Číslo pojištěnce", "health_insurance_id"),
    # Romanian
    ("Nume", "last_name"), ("Prenume", "first_name"), ("Nume și prenume", "full_name"),
    ("Data nașterii", "birth_date"), ("Data nasterii", "birth_date"), ("Strada", "postal_address"),
    ("Oraș", "city"), ("Municipiu", "city"),
    ("CNP", "ro_cnp"), ("Cod numeric personal", "ro_cnp"),
    # Danish
    ("Efternavn", "last_name"), ("Fornavn", "first_name"), ("Fulde navn", "full_name"),
    ("Fødselsdato", "birth_date"), ("Fodselsdato", "birth_date"), ("Vejnavn", "postal_address"),
    ("Postnr", "postcode"), ("Bynavn", "city"), ("Køn", "sex"),
    ("CPR-nr", "dk_cpr"), ("CPR-nummer", "dk_cpr"), ("Sygesikringsbevis", "health_insurance_id"),
    # Swedish
    ("Efternamn", "last_name"), ("Förnamn", "first_name"), ("Namn", "full_name"),
    ("Födelsedatum", "birth_date"), ("Gatuadress", "postal_address"), ("Postort", "city"),
    ("Postnummer", "postcode"), ("Kommun", "city"), ("Epostadress", "email"), ("Kön", "sex"),
    # Turkish
    ("Soyadı", "last_name"), ("Soyadi", "last_name"), ("Adı Soyadı", "full_name"),
    ("Doğum tarihi", "birth_date"), ("Dogum tarihi", "birth_date"), ("Sokak", "postal_address"),
    ("Şehir", "city"), ("İlçe", "city"), ("Posta kodu", "postcode"), ("Eposta", "email"),
    ("Cinsiyet", "sex"),
    ("TC Kimlik No", "tr_tckimlik"), ("T.C. Kimlik No", "tr_tckimlik"), ("TCKN", "tr_tckimlik"),
])
def test_header_words_of_six_more_languages(header: str, key: str) -> None:
    matches = match_header(header)
    assert matches, header
    assert next(iter(matches)) == key


def test_personnummer_names_the_danish_and_swedish_ids() -> None:
    # The same word names both countries' ids (and no longer the generic national id,
    # whose header-only verdict would hide the subtype): the values tell them apart.
    assert set(match_header("Personnummer")) == {"dk_cpr", "se_personnummer"}


def test_local_words_claim_their_key_where_short_false_friends_claim_none() -> None:
    # Turkish "Adı" normalises to the English "ad", Danish "By" is English "by",
    # "e-post" would be the bare token "post" (the stop word "e" dropped): the phrases
    # are in the lexicon, the short words are not.
    assert next(iter(match_header("Adı Soyadı"))) == "full_name"
    assert next(iter(match_header("Postnr"))) == "postcode"
    person = {"first_name", "last_name", "full_name", "city", "email", "phone", "sex"}
    for header in ("ad_id", "ad", "Adı", "by", "created_by", "sort_by", "post_id", "blog post",
                   "E-post", "il", "cep", "tan"):
        assert not set(match_header(header)) & person, header


# -- clinical notes in abbreviations -----------------------------------------------------

NOTES_EN = ["Pt c/o chest pain x3 days, ECG nad", "f/u T2DM, HbA1c 7.2", "MDD, continue sertraline",
            "HTN, ramipril increased", "URTI, off work 5 days", "COPD exac, pred 30mg 5/7",
            "post-op knee review, wound clean", "?hep C, bloods sent", "AF on apixaban",
            "CKD3, eGFR 45", "SOB on exertion, CXR requested", "PID, swabs taken",
            "ETOH excess, AUDIT 18", "G1P0 12/40, US normal", "LBP after fall, rx ibuprofen"]
NOTES_DE = ["V.a. KHK, Belastungs-EKG veranlasst", "DM Typ 2, HbA1c 7,2 %",
            "Z.n. Apoplex 2019, Hemiparese li", "Mamma-Ca li, Nachsorge",
            "COPD GOLD 2, Nikotinabusus", "VHF, Apixaban", "Niereninsuff. Stad. 3",
            "Depr. Episode, Überweisung Psych.", "Gravidität 12. SSW"]
NOTES_FR = ["HTA, DT2 équilibré, ATCD IDM 2015", "BPCO stade 2, tabac 40 PA",
            "RAS, renouvellement ttt", "AVC ischémique 2019, séquelles hémiparésie G",
            "Lombosciatique D, AINS 5j", "FA sous AOD, INR ok", "GEU, coelio prévue",
            "Angor d'effort, coro prévue", "IRC stade 3, créat 180"]
ORDERS_EN = ["Please leave the parcel at the back door", "Gift wrap requested, no invoice",
             "Customer called about delivery date", "Price quoted in CHF, convert to EUR",
             "CAD drawings attached for the bracket", "Ship with DHL express, signature required",
             "Order on hold: card declined", "Deliver after 5pm, ring twice",
             "Call Gerd before delivery", "IDM account locked, reset password",
             "AF to confirm the PO", "DM sent on Instagram", "Backorder, ETA two weeks"]
DELIVERY_DE = ["Lieferung ist unterwegs", "Paket beim Nachbarn abgegeben",
               "Kunde ist nicht erreichbar", "Ware ist beschädigt angekommen",
               "Teil ist nachbestellt", "Termin mit Gerd vereinbart", "Preis in CHF",
               "Bitte vor Lieferung anrufen", "Lieferschein fehlt"]
DELIVERY_FR = ["Livraison en 48 h", "Colis déposé chez le gardien", "Poste HTA à raccorder",
               "Sucre et farine en rupture", "Facture envoyée par mail", "2 ETP sur le chantier",
               "Livraison SEP prévue", "Remise de 10 % accordée", "Merci de rappeler avant passage"]


def _column(texts: list[str], seed: int) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(texts) for _ in range(ROWS)]


def test_clinical_abbreviations_make_notes_health_data_and_business_text_does_not() -> None:
    clinical = {"notes": NOTES_EN, "bemerkung": NOTES_DE, "observations": NOTES_FR,
                "col_1": NOTES_EN, "col_2": NOTES_DE, "col_3": NOTES_FR}
    business = {"order_comment": ORDERS_EN, "lieferhinweis": DELIVERY_DE,
                "commentaire_livraison": DELIVERY_FR, "col_4": ORDERS_EN, "col_5": DELIVERY_DE,
                "col_6": DELIVERY_FR}
    frame = pl.DataFrame({name: _column(texts, seed)
                          for seed, (name, texts) in enumerate({**clinical, **business}.items())})
    verdicts = _verdicts(frame)
    assert {name: verdicts[name][0] for name in clinical} == dict.fromkeys(clinical, "health_note")
    assert {name for name in business if verdicts[name][0] == "health_note"} == set()
