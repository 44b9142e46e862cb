"""A bounded HTTP/1.1 load generator for the lookup service (bench and tests).

Keep-alive connections, each sending one POST at a time, written on raw asyncio
streams: an HTTP client library costs more CPU per request than the server under
test, which on a small machine would measure the client rather than the service.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    statuses: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    retry_after: list[int] = field(default_factory=list)
    elapsed: float = 0.0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0

    @property
    def rate(self) -> float:
        return len(self.statuses) / self.elapsed if self.elapsed else 0.0


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


async def run_load(host: str, port: int, body_of: Callable[[int], dict], total: int,
                   connections: int = 32, path: str = "/v1/lookup") -> LoadResult:
    """POST ``body_of(i)`` for i in range(total) over ``connections`` connections."""
    result = LoadResult()
    numbers = iter(range(total))

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for i in numbers:
                payload = json.dumps(body_of(i)).encode()
                request = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\n"
                           f"Content-Type: application/json\r\n"
                           f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload
                started = time.perf_counter()
                writer.write(request)
                status, headers, _body = await _read_response(reader)
                result.latencies.append(time.perf_counter() - started)
                result.statuses.append(status)
                if status == 429:
                    result.retry_after.append(int(headers.get("retry-after", "0")))
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    result.elapsed = time.perf_counter() - started
    return result
