"""The real HTTP service, started on 127.0.0.1 only: shape, no identifier in URLs or logs, rate limit."""

from __future__ import annotations

import asyncio
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jsonschema
import pytest
from test_identity_support import CANARY_EMAIL, CANARY_PHONE, build_index, patients

from triage.identity.keys import generate_key_file
from triage.identity.loadtest import run_load
from triage.identity.service import TokenBuckets
from triage.resources import load_schema

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, index: Path, key: Path, *extra: str) -> None:
        self.port = _free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "triage", "serve", str(index), "--key", str(key),
             "--host", HOST, "--port", str(self.port), *extra],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start")

    def stop(self) -> str:
        self.process.terminate()
        try:
            out, err = self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
        return (out + err).decode(errors="replace")


@pytest.fixture(scope="module")
def index_and_key(tmp_path_factory):
    folder = tmp_path_factory.mktemp("service")
    key_path = folder / "hmac.key"
    key = generate_key_file(key_path)
    build_index(key, folder / "index", "leak-a", patients(200), "Clinic A")
    return folder / "index", key_path


@pytest.fixture(scope="module")
def server(index_and_key):
    srv = Server(*index_and_key, "--rate", "1000", "--burst", "1000", "--min-latency-ms", "5")
    yield srv
    logs = srv.stop()
    for needle in (CANARY_EMAIL, "0698765432", "98 76 54 32", "+33698765432"):
        assert needle not in logs


def test_health_and_openapi(server):
    assert httpx.get(f"{server.url}/health").json()["status"] == "ok"
    document = httpx.get(f"{server.url}/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert "post" in document["paths"]["/v1/lookup"]
    assert "get" not in document["paths"]["/v1/lookup"]


def test_hit_and_miss_have_the_same_shape_and_similar_timing(server):
    schema = load_schema("lookup.schema.json")
    timings: dict[bool, list[float]] = {True: [], False: []}
    with httpx.Client(base_url=server.url) as client:
        for i in range(30):
            for found, email in ((True, f"patient{i + 1}@example.fr"),
                                 (False, f"stranger{i}@example.fr")):
                started = time.perf_counter()
                response = client.post("/v1/lookup", json={"email": email})
                timings[found].append(time.perf_counter() - started)
                answer = response.json()
                jsonschema.validate(answer, schema)
                assert answer["found"] is found
                assert email not in response.text
    # Both are held to the 5 ms floor; on a shared machine allow generous noise.
    hit, miss = statistics.median(timings[True]), statistics.median(timings[False])
    assert min(hit, miss) >= 0.005
    assert abs(hit - miss) < 0.004


def test_canary_never_echoed(server):
    with httpx.Client(base_url=server.url) as client:
        hit = client.post("/v1/lookup", json={"email": CANARY_EMAIL})
        assert hit.json()["found"] and CANARY_EMAIL not in hit.text
        assert client.post("/v1/lookup", json={"phone": CANARY_PHONE}).json()["found"]
        bad = client.post("/v1/lookup", content=f'{{"email": "{CANARY_EMAIL}", "x": 1}}')
        assert bad.status_code == 400 and CANARY_EMAIL not in bad.text
        broken = client.post("/v1/lookup", content=f"not json {CANARY_EMAIL}")
        assert broken.status_code == 400 and CANARY_EMAIL not in broken.text


def test_identifiers_are_refused_in_urls(server):
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/v1/lookup", params={"email": "patient1@example.fr"}).status_code == 405
        refused = client.post("/v1/lookup", params={"email": "patient1@example.fr"},
                              json={"email": "patient1@example.fr"})
        assert refused.status_code == 400
        assert client.post("/v1/lookup", content=b"x" * 10_000).status_code == 413


def test_rate_limit_holds_through_a_burst_of_10000(index_and_key):
    rate, burst, total = 20.0, 30, 10_000
    srv = Server(*index_and_key, "--rate", str(rate), "--burst", str(burst))
    try:
        result = asyncio.run(run_load(HOST, srv.port, lambda i: {"phone": f"+33610{i:06d}"},
                                      total, connections=16))
    finally:
        srv.stop()
    allowed = result.statuses.count(200)
    assert len(result.statuses) == total
    assert result.statuses.count(429) == total - allowed
    assert allowed <= burst + rate * result.elapsed + 1
    assert all(value >= 1 for value in result.retry_after)


def test_a_forwarded_for_header_is_believed_only_with_trust_proxy(index_and_key):
    """A local client naming a new X-Forwarded-For address in each request must not get a
    fresh token bucket each time (uvicorn believes the header from 127.0.0.1 unless
    told not to); behind a proxy that sets it, --trust-proxy makes each address a client."""

    def statuses(*extra: str) -> list[int]:
        srv = Server(*index_and_key, "--rate", "0.01", "--burst", "2", *extra)
        try:
            with httpx.Client(base_url=srv.url) as client:
                return [client.post("/v1/lookup", json={"email": "patient1@example.fr"},
                                    headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
                        for i in range(5)]
        finally:
            srv.stop()

    assert statuses() == [200, 200, 429, 429, 429]
    assert statuses("--trust-proxy") == [200] * 5


def test_token_bucket_refills_at_its_rate():
    now = [0.0]
    buckets = TokenBuckets(rate=2.0, burst=3, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)
    assert buckets.take("b") == 0.0  # per client
    now[0] = 1.0
    assert buckets.take("a") == 0.0
