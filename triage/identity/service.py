"""The victim-lookup HTTP service: Starlette on uvicorn.

Why these: Starlette is a small, mature ASGI toolkit (no ORM, no templating, no
magic), uvicorn a production ASGI server; both are plain dependencies, and the
whole app is a few routes we can read end to end.

What it guarantees:

* identifiers travel only in POST bodies; a query string is refused unread, and
  uvicorn's access log is off, so no identifier reaches a URL or a log line;
* a per-client token bucket (429 + Retry-After) bounds how fast anyone can walk
  the phone-number space through it; the client is the connection's address, and
  ``X-Forwarded-For`` is believed only when asked (``serve(trust_proxy=True)``);
* hits and misses have the same response shape, do the same index work and are
  held to the same minimum latency, so timing says little about the answer;
* ``GET /health`` and ``GET /openapi.json``.
"""

from __future__ import annotations

import asyncio
import json
import math
import socket
import time
from collections import OrderedDict
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from triage import __version__
from triage.errors import TriageError
from triage.identity.canonical import SINGLE_COLUMN_KINDS
from triage.identity.lookup import LookupIndex
from triage.resources import load_schema

#: Largest request body read: a lookup is one identifier, never kilobytes.
MAX_BODY_BYTES = 4096


class TokenBuckets:
    """One token bucket per client: ``rate`` tokens a second, at most ``burst`` saved.

    Remembers at most ``max_clients`` clients (least recently seen forgotten
    first), so a flood of addresses cannot exhaust memory.
    """

    def __init__(self, rate: float, burst: int, *, max_clients: int = 100_000,
                 clock=time.monotonic) -> None:  # type: ignore[no-untyped-def]
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str) -> float:
        """0 if ``client`` may proceed now, else the seconds until it may."""
        now = self._clock()
        tokens, seen = self._buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - seen) * self.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate
        self._buckets[client] = (tokens, now)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    # Messages are fixed strings: nothing from the request is ever echoed back.
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _parse_query(body: Any) -> tuple[str, str, str | None] | str:
    """(kind, value, birth_date) from a request body, or an error message."""
    if not isinstance(body, dict) or not body:
        return "body must be a JSON object with one identifier"
    if not all(isinstance(v, str) for v in body.values()):
        return "identifier values must be strings"
    keys = set(body)
    if keys == {"name", "birth_date"}:
        return "name_birth", body["name"], body["birth_date"]
    if len(keys) == 1 and next(iter(keys)) in SINGLE_COLUMN_KINDS:
        kind = next(iter(keys))
        return kind, body[kind], None
    return ("give exactly one of: " + ", ".join(SINGLE_COLUMN_KINDS)
            + ", or name with birth_date")


def openapi_document() -> dict[str, Any]:
    request_schema = {
        "oneOf": [
            *({"type": "object", "required": [k], "additionalProperties": False,
               "properties": {k: {"type": "string", "maxLength": 320}}}
              for k in SINGLE_COLUMN_KINDS),
            {"type": "object", "required": ["name", "birth_date"], "additionalProperties": False,
             "properties": {"name": {"type": "string"},
                            "birth_date": {"type": "string", "format": "date"}}},
        ]
    }
    lookup_schema = {k: v for k, v in load_schema("lookup.schema.json").items()
                     if k not in ("$schema", "$id")}
    error = {"type": "object", "properties": {"error": {"type": "string"}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "triage victim lookup", "version": __version__,
                 "description": "Was I in a leak? Identifiers only in POST bodies; "
                                "rate-limited per client."},
        "paths": {
            "/v1/lookup": {"post": {
                "summary": "Look one identifier up in every leak of the index",
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": request_schema}}},
                "responses": {
                    "200": {"description": "found or not, same shape either way",
                            "content": {"application/json": {"schema": lookup_schema}}},
                    "400": {"description": "malformed request",
                            "content": {"application/json": {"schema": error}}},
                    "429": {"description": "rate limit; see Retry-After",
                            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                            "content": {"application/json": {"schema": error}}},
                }}},
            "/health": {"get": {"summary": "Liveness",
                                "responses": {"200": {"description": "ok"}}}},
        },
    }


def create_app(index: LookupIndex, *, rate: float = 1.0, burst: int = 10,
               min_latency: float = 0.003) -> Starlette:
    """The ASGI app. ``min_latency``: seconds every lookup answer takes at least."""
    buckets = TokenBuckets(rate, burst)
    document = openapi_document()

    async def lookup(request: Request) -> JSONResponse:
        started = time.perf_counter()
        if request.url.query:
            return _error(400, "identifiers go in the POST body, never in the URL")
        client = request.client.host if request.client else "unknown"
        wait = buckets.take(client)
        if wait > 0:
            return _error(429, "rate limit exceeded",
                          {"Retry-After": str(max(1, math.ceil(wait)))})
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
            return _error(413, "request body too large")
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return _error(413, "request body too large")
        try:
            parsed = _parse_query(json.loads(body))
        except ValueError:
            parsed = "body must be JSON"
        if isinstance(parsed, str):
            return _error(400, parsed)
        kind, value, birth_date = parsed
        try:
            answer = index.lookup(kind, value, birth_date)
        except Exception:  # noqa: BLE001 - a message could quote the identifier
            return _error(400, "identifier could not be read")
        remaining = min_latency - (time.perf_counter() - started)
        if remaining > 0:
            await asyncio.sleep(remaining)
        return JSONResponse(answer)

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "leaks": len(index.manifest["leaks"])})

    async def openapi(_request: Request) -> JSONResponse:
        return JSONResponse(document)

    return Starlette(routes=[
        Route("/v1/lookup", lookup, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ])


def listen(host: str, port: int) -> socket.socket:
    """The service's listening socket. Bound here, before uvicorn starts, so that a port
    in use or an address this machine does not have is a one-line error (uvicorn logs
    it and exits with its own status)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise TriageError(f"cannot listen on port {port} ({exc.strerror})", path=host) from None
    return sock


def serve(index: LookupIndex, sock: socket.socket, *, rate: float = 1.0, burst: int = 10,
          min_latency: float = 0.003, trust_proxy: bool = False) -> None:
    """Run the service on ``sock`` (from :func:`listen`) until interrupted; no access log,
    no server header.

    ``trust_proxy``: take the client's address from ``X-Forwarded-For`` on connections
    from uvicorn's trusted proxies (127.0.0.1 and ::1, or ``$FORWARDED_ALLOW_IPS``).
    Off by default, unlike uvicorn: any local client could otherwise name a new address
    in each request and so get a fresh token bucket each time."""
    import uvicorn

    app = create_app(index, rate=rate, burst=burst, min_latency=min_latency)
    config = uvicorn.Config(app, access_log=False, log_level="warning", server_header=False,
                            date_header=False, proxy_headers=trust_proxy)
    uvicorn.Server(config).run(sockets=[sock])
