"""The people of a dump: attributes as pure functions of the person id.

Most attributes (sex, birth date, name, address, condition) are hashed from
(seed, person id) on demand, so no per-person table is stored. Identifiers that
must be unique and cannot come from a bijection (the NIR, whose digits are fixed
by sex, birth and place; e-mail addresses, built from names) are computed once
for everybody, deduplicated, and kept as compact arrays.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property

import numpy as np
import polars as pl

from synthetic import catalogues
from synthetic.checkdigits import nir_key
from synthetic.pools import CANARY_SURNAMES, Pools, ascii_fold
from synthetic.rand import below, salt_of, uniform, weighted

_EPOCH = date(1970, 1, 1)


def day_number(iso: str) -> int:
    """Days since 1970-01-01 of an ISO date."""
    return (date.fromisoformat(iso) - _EPOCH).days


def ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day arrays of day numbers."""
    d = np.asarray(days).astype("datetime64[D]")
    years = d.astype("datetime64[Y]")
    months = d.astype("datetime64[M]")
    return (years.astype(np.int64) + 1970, (months - years).astype(np.int64) + 1,
            (d - months).astype(np.int64) + 1)


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
        return pl.select(pl.when(pl.lit(pl.Series(female))).then(pl.lit(f)).otherwise(pl.lit(m))).to_series()

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

    @cached_property
    def nir(self) -> tuple[np.ndarray, np.ndarray]:
        """(first 13 digits with 2A->19 and 2B->18, Corsica flag 0/1=2A/2=2B) for everybody."""
        pid = np.arange(self.count, dtype=np.int64)
        rng = np.random.default_rng([self.seed, 97])
        year, month, _ = ymd(self.birth_day(pid))
        sex_digit = np.where(self.female(pid), 2, 1)
        codes = catalogues.FR_BIRTH_DEPARTEMENTS
        home = self.pools.places["region"].gather(self.place(pid)).to_numpy()
        u = self.u(pid, "birthplace")
        anywhere = np.array(codes, dtype=object)[below(pid, salt_of(self.seed, "birthdept"), len(codes))]
        dept = np.where(u < 0.04, "99", np.where(u < 0.62, home, anywhere))
        # Corsica became 2A/2B in 1976; people born there earlier keep 20.
        corsica = np.where(year >= 1976, np.where(dept == "2A", 1, np.where(dept == "2B", 2, 0)), 0)
        dept = np.where(np.isin(dept, ["2A", "2B"]) & (year < 1976), "20", dept)
        # The key is computed with 2A written 19 and 2B written 18 (INSEE rule).
        distinct, inverse = np.unique(dept.astype(str), return_inverse=True)
        dept_num = np.array([{"2A": 19, "2B": 18}.get(d) or int(d) for d in distinct])[inverse]
        countries = np.array(catalogues.FR_BIRTH_COUNTRIES)
        commune = np.where(dept == "99", countries[rng.integers(0, len(countries), self.count)],
                           rng.integers(1, 990, self.count))
        order = rng.integers(1, 1000, self.count)
        head = sex_digit * 10**12 + (year % 100) * 10**10 + month * 10**8 + dept_num * 10**6
        number = head + commune * 1000 + order
        # Two people may not share an NIR: redraw the order number of any duplicate.
        while True:
            _, first, counts = np.unique(number, return_index=True, return_counts=True)
            if counts.max(initial=1) == 1:
                break
            dup = np.ones(self.count, dtype=bool)
            dup[first] = False
            number[dup] = head[dup] + commune[dup] * 1000 + rng.integers(1, 1000, int(dup.sum()))
        return number, corsica.astype(np.uint8)

    def nir_text(self, pid: np.ndarray) -> pl.Series:
        number, corsica = self.nir
        first13 = number[pid]
        text = pl.Series(first13).cast(pl.String).str.zfill(13)
        key = pl.Series(nir_key(first13)).cast(pl.String).str.zfill(2)
        flag = pl.Series(corsica[pid])
        frame = pl.DataFrame({"t": text, "k": key, "c": flag})
        return frame.select(
            pl.when(pl.col("c") == 0).then(pl.col("t"))
            .otherwise(pl.concat_str([pl.col("t").str.slice(0, 5),
                                      pl.when(pl.col("c") == 1).then(pl.lit("2A")).otherwise(pl.lit("2B")),
                                      pl.col("t").str.slice(7)]))
            + pl.col("k")
        ).to_series()

    @cached_property
    def emails(self) -> pl.Series:
        """One distinct e-mail address per person, canaries' recognisable."""
        pid = np.arange(self.count, dtype=np.int64)
        lang = self.spec["native_locale"]
        domains, shares = {
            "fr": (catalogues.FR_EMAIL_DOMAINS, catalogues.FR_EMAIL_SHARES),
            "de": (catalogues.DE_EMAIL_DOMAINS, catalogues.DE_EMAIL_SHARES),
        }.get(lang, (catalogues.EN_EMAIL_DOMAINS, catalogues.EN_EMAIL_SHARES))
        first = _fold(self.first_name(pid))
        last = _fold(self.last_name(pid))
        year, _, _ = ymd(self.birth_day(pid))
        frame = pl.DataFrame({
            "f": first, "l": last,
            "v": below(pid, salt_of(self.seed, "mailform"), 6),
            "yy": pl.Series(year % 100).cast(pl.String).str.zfill(2),
            "n": pl.Series(below(pid, salt_of(self.seed, "mailnum"), 999) + 1).cast(pl.String),
            "d": pl.Series(domains).gather(weighted(self.u(pid, "maildomain"), shares)),
        })
        local = frame.select(
            pl.when(pl.col("v") == 0).then(pl.concat_str(["f", pl.lit("."), "l"]))
            .when(pl.col("v") == 1).then(pl.concat_str(["f", pl.lit("_"), "l"]))
            .when(pl.col("v") == 2).then(pl.concat_str([pl.col("f").str.slice(0, 1), "l"]))
            .when(pl.col("v") == 3).then(pl.concat_str(["f", pl.lit("."), "l", "yy"]))
            .when(pl.col("v") == 4).then(pl.concat_str(["l", pl.lit("."), "f"]))
            .otherwise(pl.concat_str(["f", "l", "n"]))
        ).to_series()
        token = f"{int(self.u(np.array([0]), 'canary')[0] * 16**6):06x}"
        canary = pl.Series([f"canari.{token}{i}" for i in range(self.canaries)], dtype=pl.String)
        local = local.scatter(np.arange(self.canaries), canary) if self.canaries else local
        domain = frame["d"]
        rng = np.random.default_rng([self.seed, 64])
        while True:
            address = local + "@" + domain
            dup = address.is_first_distinct().not_()
            if not dup.any():
                return address
            where = np.flatnonzero(dup.to_numpy())
            digits = pl.Series(rng.integers(0, 10, where.size)).cast(pl.String)
            local = local.scatter(where, local.gather(where) + digits)

    @cached_property
    def email_sha256(self) -> pl.Series:
        """SHA-256 of each person's lower-cased e-mail, as tracking pixels send it."""
        import hashlib

        # Once per person (not per row): hashlib is the reference implementation.
        return pl.Series([hashlib.sha256(e.encode()).hexdigest() for e in self.emails.to_list()],
                         dtype=pl.String)


def _fold(names: pl.Series) -> pl.Series:
    """ASCII-fold a column of names through its (small) set of distinct values."""
    distinct = names.unique(maintain_order=True)
    mapping = dict(zip(distinct.to_list(), (ascii_fold(n) for n in distinct.to_list()), strict=True))
    return names.replace_strict(mapping, return_dtype=pl.String)
