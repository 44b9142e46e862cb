"""The people of a dump: attributes as pure functions of the person id.

Most attributes (sex, birth date, name, address, condition) are hashed from
(seed, person id) on demand, so no per-person table is stored. Identifiers that
must be unique and cannot come from a bijection (the NIR, whose digits are fixed
by sex, birth and place; e-mail addresses, built from names) are computed once
for everybody, deduplicated, and kept as compact arrays.
"""

from __future__ import annotations

import hashlib
from datetime import date
from functools import cached_property

import numpy as np
import polars as pl

from synthetic import catalogues
from synthetic.checkdigits import nir_key
from synthetic.pools import CANARY_SURNAMES, Pools, ascii_fold
from synthetic.rand import below, salt_of, uniform, weighted

_EPOCH = date(1970, 1, 1)
#: People per block when identifiers are built for everybody: bounds the temporaries.
_BLOCK = 500_000


def day_number(iso: str) -> int:
    """Days since 1970-01-01 of an ISO date."""
    return (date.fromisoformat(iso) - _EPOCH).days


def ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day arrays of day numbers."""
    d = np.asarray(days).astype("datetime64[D]")
    years = d.astype("datetime64[Y]")
    months = d.astype("datetime64[M]")
    return (
        years.astype(np.int64) + 1970,
        (months - years).astype(np.int64) + 1,
        (d - months).astype(np.int64) + 1,
    )


class Population:
    def __init__(self, count: int, seed: int, spec: dict, pools: Pools) -> None:
        self.count = count
        self.seed = seed
        self.spec = spec
        self.pools = pools
        self.canaries = min(spec.get("canaries", 0), count, len(CANARY_SURNAMES))
        births = spec.get("births", {"start": "1925-01-01", "end": "2018-12-31"})
        self._birth_span = (day_number(births["start"]), day_number(births["end"]))

    # -- hashed attributes ---------------------------------------------------------

    def u(self, pid: np.ndarray, name: str) -> np.ndarray:
        return uniform(pid, salt_of(self.seed, name))

    def female(self, pid: np.ndarray) -> np.ndarray:
        return self.u(pid, "sex") < 0.52

    def birth_day(self, pid: np.ndarray) -> np.ndarray:
        # The mean of two uniforms: more middle-aged patients than babies or centenarians.
        lo, hi = self._birth_span
        mid = (self.u(pid, "birth1") + self.u(pid, "birth2")) / 2
        return (lo + mid * (hi - lo)).astype(np.int64)

    def first_name(self, pid: np.ndarray) -> pl.Series:
        female = self.female(pid)
        males, females = self.pools.first_male, self.pools.first_female
        m = males.gather(below(pid, salt_of(self.seed, "first"), len(males)))
        f = females.gather(below(pid, salt_of(self.seed, "first"), len(females)))
        return pl.select(
            pl.when(pl.lit(pl.Series(female))).then(pl.lit(f)).otherwise(pl.lit(m))
        ).to_series()

    def last_index(self, pid: np.ndarray) -> np.ndarray:
        regular = len(self.pools.last) - len(CANARY_SURNAMES)
        idx = below(pid, salt_of(self.seed, "last"), regular)
        canary = pid < self.canaries
        idx[canary] = regular + pid[canary]
        return idx

    def last_name(self, pid: np.ndarray) -> pl.Series:
        return self.pools.last.gather(self.last_index(pid))

    def place(self, pid: np.ndarray) -> np.ndarray:
        """Row index into ``pools.places`` of the person's home."""
        return weighted(self.u(pid, "place"), self.pools.place_weights)

    def condition(self, pid: np.ndarray) -> np.ndarray:
        """Index into ``catalogues.CONDITIONS``; sex-specific conditions only for that sex."""
        shares = [c["share"] for c in catalogues.CONDITIONS]
        idx = weighted(self.u(pid, "condition"), shares)
        female = self.female(pid)
        for i, cond in enumerate(catalogues.CONDITIONS):
            if cond["sex"] == "F":
                idx[(idx == i) & ~female] = 0
            elif cond["sex"] == "M":
                idx[(idx == i) & female] = 0
        return idx

    # -- stored unique identifiers -----------------------------------------------------

    def _nir_parts(self, pid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(first 13 digits without the order number, Corsica flag 0/1=2A/2=2B) per person.

        Integer codes throughout (no per-person strings): this runs over everybody.
        """
        codes = catalogues.FR_BIRTH_DEPARTEMENTS + ["20", "99"]
        code_of = {c: i for i, c in enumerate(codes)}
        # The key is computed with 2A written 19 and 2B written 18 (INSEE rule).
        numeric = np.array([{"2A": 19, "2B": 18}.get(c) or int(c) for c in codes], dtype=np.int64)
        place_code = np.array(
            [code_of.get(r, code_of["99"]) for r in self.pools.places["region"].to_list()]
        )
        year, month, _ = ymd(self.birth_day(pid))
        u = self.u(pid, "birthplace")
        anywhere = below(
            pid, salt_of(self.seed, "birthdept"), len(catalogues.FR_BIRTH_DEPARTEMENTS)
        )
        dept = np.where(
            u < 0.04, code_of["99"], np.where(u < 0.62, place_code[self.place(pid)], anywhere)
        )
        corsica = np.where(dept == code_of["2A"], 1, np.where(dept == code_of["2B"], 2, 0))
        # Corsica became 2A/2B in 1976; people born there earlier keep 20.
        before = (corsica > 0) & (year < 1976)
        dept[before] = code_of["20"]
        corsica[before] = 0
        countries = np.array(catalogues.FR_BIRTH_COUNTRIES)
        commune = np.where(
            dept == code_of["99"],
            countries[below(pid, salt_of(self.seed, "country"), len(countries))],
            below(pid, salt_of(self.seed, "commune"), 989) + 1,
        )
        sex_digit = np.where(self.female(pid), 2, 1)
        head = (
            sex_digit * 10**12
            + (year % 100) * 10**10
            + month * 10**8
            + numeric[dept] * 10**6
            + commune * 1000
        )
        return head, corsica.astype(np.uint8)

    @cached_property
    def nir(self) -> tuple[np.ndarray, np.ndarray]:
        """(first 13 digits with 2A->19 and 2B->18, Corsica flag) for everybody, all distinct."""
        number = np.empty(self.count, dtype=np.int64)
        corsica = np.empty(self.count, dtype=np.uint8)
        for start in range(0, self.count, _BLOCK):
            pid = np.arange(start, min(self.count, start + _BLOCK), dtype=np.int64)
            head, flag = self._nir_parts(pid)
            number[pid] = head + below(pid, salt_of(self.seed, "order"), 999) + 1
            corsica[pid] = flag
        # Two people may not share an NIR: redraw the order number of every later duplicate.
        rng = np.random.default_rng([self.seed, 97])
        while True:
            order = np.argsort(number, kind="stable")
            repeated = order[1:][number[order[1:]] == number[order[:-1]]]
            del order
            if repeated.size == 0:
                return number, corsica
            head, _ = self._nir_parts(repeated)
            number[repeated] = head + rng.integers(1, 1000, repeated.size)

    def nir_text(self, pid: np.ndarray) -> pl.Series:
        number, corsica = self.nir
        first13 = number[pid]
        text = pl.Series(first13).cast(pl.String).str.zfill(13)
        key = pl.Series(nir_key(first13)).cast(pl.String).str.zfill(2)
        flag = pl.Series(corsica[pid])
        frame = pl.DataFrame({"t": text, "k": key, "c": flag})
        return frame.select(
            pl.when(pl.col("c") == 0)
            .then(pl.col("t"))
            .otherwise(
                pl.concat_str(
                    [
                        pl.col("t").str.slice(0, 5),
                        pl.when(pl.col("c") == 1).then(pl.lit("2A")).otherwise(pl.lit("2B")),
                        pl.col("t").str.slice(7),
                    ]
                )
            )
            + pl.col("k")
        ).to_series()

    def _email_candidates(self, pid: np.ndarray) -> pl.Series:
        """Addresses built from names, birth year and a usual domain; may repeat between people."""
        domains, shares = {
            "fr": (catalogues.FR_EMAIL_DOMAINS, catalogues.FR_EMAIL_SHARES),
            "de": (catalogues.DE_EMAIL_DOMAINS, catalogues.DE_EMAIL_SHARES),
        }.get(self.spec["native_locale"], (catalogues.EN_EMAIL_DOMAINS, catalogues.EN_EMAIL_SHARES))
        year, _, _ = ymd(self.birth_day(pid))
        frame = pl.DataFrame(
            {
                "f": _fold(self.first_name(pid)),
                "l": _fold(self.last_name(pid)),
                "v": below(pid, salt_of(self.seed, "mailform"), 6),
                "yy": pl.Series(year % 100).cast(pl.String).str.zfill(2),
                "n": pl.Series(below(pid, salt_of(self.seed, "mailnum"), 999) + 1).cast(pl.String),
                "d": pl.Series(domains).gather(weighted(self.u(pid, "maildomain"), shares)),
            }
        )
        local = (
            pl.when(pl.col("v") == 0)
            .then(pl.concat_str(["f", pl.lit("."), "l"]))
            .when(pl.col("v") == 1)
            .then(pl.concat_str(["f", pl.lit("_"), "l"]))
            .when(pl.col("v") == 2)
            .then(pl.concat_str([pl.col("f").str.slice(0, 1), "l"]))
            .when(pl.col("v") == 3)
            .then(pl.concat_str(["f", pl.lit("."), "l", "yy"]))
            .when(pl.col("v") == 4)
            .then(pl.concat_str(["l", pl.lit("."), "f"]))
            .otherwise(pl.concat_str(["f", "l", "n"]))
        )
        return frame.select(pl.concat_str([local, pl.lit("@"), "d"])).to_series()

    @cached_property
    def emails(self) -> pl.Series:
        """One distinct e-mail address per person, canaries' recognisable."""
        blocks = [
            self._email_candidates(
                np.arange(start, min(self.count, start + _BLOCK), dtype=np.int64)
            )
            for start in range(0, self.count, _BLOCK)
        ]
        address = pl.concat(blocks) if blocks else pl.Series([], dtype=pl.String)
        del blocks
        if self.canaries:
            # Canary local parts start with "canari.", which no name-built address does.
            token = f"{int(self.u(np.array([0]), 'canary')[0] * 16**6):06x}"
            canary = pl.Series([f"canari.{token}{i}" for i in range(self.canaries)])
            domain = address.head(self.canaries).str.split("@").list.last()
            address = address.scatter(np.arange(self.canaries), canary + "@" + domain)
        # The k-th later holder of a taken address gets k before the "@" (as mail providers
        # suggest); the rare clash this makes with another address is redrawn below.
        rank = address.to_frame("a").select(pl.int_range(pl.len()).over("a")).to_series().to_numpy()
        address = _suffix_local(address, np.flatnonzero(rank), pl.Series(rank).cast(pl.String))
        rng = np.random.default_rng([self.seed, 64])
        while True:
            where = np.flatnonzero(address.is_first_distinct().not_().to_numpy())
            if where.size == 0:
                return address
            digits = pl.Series(rng.integers(0, 10, self.count)).cast(pl.String)
            address = _suffix_local(address, where, digits)

    @cached_property
    def email_sha256(self) -> pl.Series:
        """SHA-256 of each person's lower-cased e-mail, as tracking pixels send it."""
        # Once per person (not per row): hashlib is the reference implementation.
        return pl.Series(
            [hashlib.sha256(e.encode()).hexdigest() for e in self.emails.to_list()], dtype=pl.String
        )


def _suffix_local(address: pl.Series, where: np.ndarray, suffix: pl.Series) -> pl.Series:
    """Append ``suffix[i]`` to the local part of ``address[i]`` for each i in ``where``."""
    if where.size == 0:
        return address
    parts = address.gather(where).str.split("@")
    return address.scatter(
        where, parts.list.first() + suffix.gather(where) + "@" + parts.list.last()
    )


def _fold(names: pl.Series) -> pl.Series:
    """ASCII-fold a column of names through its (small) set of distinct values."""
    distinct = names.unique(maintain_order=True)
    mapping = dict(
        zip(distinct.to_list(), (ascii_fold(n) for n in distinct.to_list()), strict=True)
    )
    return names.replace_strict(mapping, return_dtype=pl.String)
