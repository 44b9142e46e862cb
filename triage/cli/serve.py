"""``triage serve``: the victim-lookup HTTP API."""

from __future__ import annotations

import click

from triage.cli.options import FiniteFloatRange, Region
from triage.identity.keys import load_hmac_key
from triage.identity.lookup import LookupIndex
from triage.identity.service import listen, serve


@click.command("serve")
@click.argument("index", type=click.Path(exists=True, file_okay=False))
@click.option("--key", "key_file", type=click.Path(dir_okay=False),
              help="HMAC key file (mode 0600); default: $TRIAGE_HMAC_KEY (base64).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; put a TLS-terminating proxy in front for others.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--rate", default=1.0, show_default=True,
              type=FiniteFloatRange(min=0, min_open=True),
              help="Lookups per second allowed per client (token bucket refill).")
# At most a billion: beyond, no limit is left to set (bench_identity.py turns it off so),
# and far beyond, the bucket's float count overflows.
@click.option("--burst", default=10, show_default=True, type=click.IntRange(1, 10**9),
              help="Lookups a client may make at once before being limited.")
@click.option("--min-latency-ms", default=3.0, show_default=True,
              type=FiniteFloatRange(0, 60_000),
              help="Every lookup answer takes at least this long, hit or miss.")
@click.option("--region", type=Region(), help="Default phone region (default: the index's).")
@click.option("--preload/--no-preload", default=True, show_default=True,
              help="Hold the index in memory (~36 bytes per identifier) for fast lookups; "
                   "--no-preload reads one row group per lookup instead.")
@click.option("--trust-proxy/--no-trust-proxy", default=False, show_default=True,
              help="Take the client address of the rate limit from X-Forwarded-For when "
                   "the connection comes from 127.0.0.1 or ::1 (or $FORWARDED_ALLOW_IPS): "
                   "only behind a reverse proxy that overwrites that header. Otherwise "
                   "any local client could rotate it to escape the limit.")
def command(index: str, key_file: str | None, host: str, port: int, rate: float, burst: int,
            min_latency_ms: float, region: str | None, preload: bool, trust_proxy: bool) -> None:
    """Serve lookups over HTTP: POST /v1/lookup, GET /health, GET /openapi.json.

    Identifiers are accepted only in POST bodies and never logged (no access
    log). Each client (its connection's address, or with --trust-proxy the one its
    proxy forwards) is rate-limited (429 with Retry-After).
    """
    lookup_index = LookupIndex(index, load_hmac_key(key_file), region=region, preload=preload)
    sock = listen(host, port)
    click.echo(f"serving {len(lookup_index.manifest['leaks'])} leak(s) on http://{host}:{port} "
               f"(key id {lookup_index.manifest['key_id']})", err=True)
    serve(lookup_index, sock, rate=rate, burst=burst, min_latency=min_latency_ms / 1000,
          trust_proxy=trust_proxy)
