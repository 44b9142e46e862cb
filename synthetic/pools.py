"""Value pools drawn from Faker once per run, then indexed by vectorised draws.

A Faker call costs microseconds; ten million rows times sixty columns of them
would take hours. A few thousand names, streets and places drawn once, then
gathered by integer index arrays, cost nothing per row.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import polars as pl
from faker import Faker

from synthetic import catalogues
from synthetic.checkdigits import luhn_digit
from synthetic.rand import bijection

#: Invented surnames for canary people: in no name pool, so a grep for them finds only them.
CANARY_SURNAMES = [
    "Quivrelanne",
    "Ozembracq",
    "Tralvoisec",
    "Brusquemontel",
    "Falgiracq",
    "Mordevaux",
    "Kervilliq",
    "Pradoulasse",
]

_POOL_DRAWS = 4000


def ascii_fold(text: str) -> str:
    """Lower-case ASCII for e-mail local parts: 'Hélène Le Goff' -> 'helenelegoff'."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _encodable(values, encoding: str) -> list[str]:
    """Distinct values the target encoding can write, in first-seen order (deterministic)."""
    keep = []
    for value in dict.fromkeys(values):
        try:
            value.encode(encoding)
        except UnicodeEncodeError:
            continue
        keep.append(value)
    return keep


@dataclass
class Pools:
    first_male: pl.Series
    first_female: pl.Series
    last: pl.Series
    streets: pl.Series
    #: Places: postcode, city, region (département, US state or empty), landline zone.
    places: pl.DataFrame
    #: Weight of each place for residence draws.
    place_weights: np.ndarray
    doctors: pl.DataFrame
    labs: pl.DataFrame
    extra: dict = field(default_factory=dict)


def _fr_places(weights: dict[str, float]) -> tuple[pl.DataFrame, np.ndarray]:
    named = [d for d in weights if d != "other"]
    others = [d for d in catalogues.FR_COMMUNES if d not in named]
    rows, place_weights = [], []
    for dept, communes in catalogues.FR_COMMUNES.items():
        share = weights[dept] if dept in named else weights.get("other", 0.0) / len(others)
        for postcode, city in communes:
            rows.append((postcode, city, dept, catalogues.FR_LANDLINE_ZONE[dept]))
            place_weights.append(share / len(communes))
    frame = pl.DataFrame(rows, schema=["postcode", "city", "region", "zone"], orient="row")
    return frame, np.array(place_weights)


def _faker_places(fake: Faker, country: str) -> tuple[pl.DataFrame, np.ndarray]:
    rows = []
    for i in range(600):
        if country == "us":
            state = catalogues.US_STATES[i % len(catalogues.US_STATES)]
            rows.append((fake.zipcode_in_state(state), fake.city(), state, 0))
        else:
            rows.append((fake.postcode(), fake.city(), "", 0))
    frame = pl.DataFrame(rows, schema=["postcode", "city", "region", "zone"], orient="row")
    frame = frame.unique(subset=["postcode"], keep="first", maintain_order=True)
    return frame, np.ones(frame.height)


def build(spec: dict, seed: int) -> Pools:
    """Every pool a scenario needs, deterministic for (scenario, seed)."""
    key = json.dumps(
        {k: spec.get(k) for k in ("faker_locale", "encoding", "geography")}, sort_keys=True
    )
    return _build(key, seed)


@lru_cache(maxsize=8)
def _build(key: str, seed: int) -> Pools:
    # Pools are read-only once built, so runs in one process (tests, benchmarks) share them.
    spec = json.loads(key)
    fake = Faker(spec["faker_locale"])
    fake.seed_instance(seed)
    encoding = spec["encoding"]
    first_male = _encodable((fake.first_name_male() for _ in range(_POOL_DRAWS)), encoding)
    first_female = _encodable((fake.first_name_female() for _ in range(_POOL_DRAWS)), encoding)
    last = _encodable((fake.last_name() for _ in range(_POOL_DRAWS)), encoding)
    streets = _encodable((fake.street_name() for _ in range(_POOL_DRAWS)), encoding)
    # Canary surnames sit at the end of the pool, reachable only by canary people.
    last = [name for name in last if name not in CANARY_SURNAMES] + CANARY_SURNAMES

    geography = spec.get("geography") or {}
    country = geography.get("country", "fr")
    if country == "fr":
        places, place_weights = _fr_places(geography.get("weights", {"other": 1.0}))
    else:
        places, place_weights = _faker_places(fake, country)

    rng = np.random.default_rng([seed, 7])
    doctors = _doctors(fake, rng, seed, places, place_weights, encoding)
    labs = _labs(rng, seed, places, place_weights)
    return Pools(
        first_male=pl.Series(first_male),
        first_female=pl.Series(first_female),
        last=pl.Series(last),
        streets=pl.Series(streets),
        places=places,
        place_weights=place_weights,
        doctors=doctors,
        labs=labs,
        extra={
            "user_agents": pl.Series(_encodable((fake.user_agent() for _ in range(300)), encoding)),
            "companies": pl.Series(_encodable((fake.company() for _ in range(300)), encoding)),
        },
    )


def _doctors(
    fake: Faker,
    rng: np.random.Generator,
    seed: int,
    places: pl.DataFrame,
    place_weights: np.ndarray,
    encoding: str,
    count: int = 400,
) -> pl.DataFrame:
    drawn = (f"Dr {fake.first_name()} {fake.last_name().upper()}" for _ in range(count * 2))
    names = _encodable(drawn, encoding)[:count]
    count = len(names)
    streets = _encodable((fake.street_name() for _ in range(count)), encoding)
    ids = np.arange(count)
    # RPPS: 11 digits, "10" then 8 digits then a Luhn digit; NPI: 10 digits whose Luhn is
    # computed over the prefix 80840 + 9 digits; LANR: 6 digits + check + 2 specialty digits.
    serial8 = bijection(ids, seed, "rpps", 10**8)
    rpps = 10 * (10 * 10**8 + serial8) + luhn_digit(10 * 10**8 + serial8, 10)
    npi9 = 100_000_000 + bijection(ids, seed, "npi", 10**8)
    npi = npi9 * 10 + luhn_digit(80840 * 10**9 + npi9, 14)
    place = rng.choice(places.height, size=count, p=place_weights / place_weights.sum())
    return pl.DataFrame(
        {
            "name": names,
            "rpps": pl.Series(rpps).cast(pl.String),
            "npi": pl.Series(npi).cast(pl.String),
            "street": [f"{rng.integers(1, 120)} {streets[i % len(streets)]}" for i in range(count)],
            "postcode": places["postcode"].gather(place),
            "city": places["city"].gather(place),
        }
    )


def _labs(
    rng: np.random.Generator,
    seed: int,
    places: pl.DataFrame,
    place_weights: np.ndarray,
    count: int = 30,
) -> pl.DataFrame:
    """About thirty labs where the patients live, each with a FINESS number (9 digits, Luhn)."""
    place = rng.choice(places.height, size=count, p=place_weights / place_weights.sum())
    region = places["region"].gather(place).to_list()
    # FINESS starts with the département; Corsica's 2A/2B are written 20 here to keep it numeric.
    dept = np.array([int(r) if r.isdigit() else 20 for r in region], dtype=np.int64)
    payload = dept * 10**6 + bijection(np.arange(count), seed, "finess", 10**6)
    finess = payload * 10 + luhn_digit(payload, 8)
    city = places["city"].gather(place)
    return pl.DataFrame(
        {
            "code": [f"L{i + 1:02d}" for i in range(count)],
            "name": [f"Laboratoire de biologie médicale {c}" for c in city.to_list()],
            "finess": pl.Series(finess).cast(pl.String).str.zfill(9),
            "city": city,
            "place": place,
        }
    )
