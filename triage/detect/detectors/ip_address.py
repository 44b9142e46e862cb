"""IPv4 and IPv6 addresses, with a column-level plausibility test.

Four dotted numbers up to 255 are also version strings (``1.2.3.4``). Addresses of
many clients spread over the whole range, so their octets add up to far more than
a version's small components: a column whose values mostly sum under
:data:`VERSION_LIKE_SUM` is not addresses.
"""

from __future__ import annotations

import ipaddress

import polars as pl

from triage.detect.base import Detector

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = rf"^{_OCTET}(?:\.{_OCTET}){{3}}$"
VERSION_LIKE_SUM = 64


def ip_valid(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


class IpAddress(Detector):
    id = "ip_address"
    category = "ip_address"
    headers = "ip_address"
    priority = 80
    costly = True

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        ipv6 = col.str.contains(r"^[0-9A-Fa-f:]{2,39}$") & (col.str.count_matches(":") >= 2)
        return col.str.contains(_IPV4) | ipv6

    def validate(self, values: pl.Series) -> pl.Series:
        return pl.Series(values.name, [ip_valid(v) for v in values.to_list()],
                         dtype=pl.Boolean)

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        ipv4 = valid.filter(valid.str.contains(r"^\d+\.\d+\.\d+\.\d+$"))
        if len(ipv4) == 0:
            return 1.0
        octets = ipv4.str.split(".").list.eval(pl.element().cast(pl.Int32)).list.sum()
        address_like = float((octets >= VERSION_LIKE_SUM).mean() or 0.0)
        distinct = ipv4.n_unique() / len(ipv4)
        return (1.0 if address_like >= 0.8 else 0.0) * min(1.0, 5 * distinct)


DETECTOR = IpAddress()
