"""The summary document: schema, no identifiers, suppression applied, and its renderings.

The HTML page is opened in headless Chromium driven over the DevTools protocol
(``--remote-debugging-pipe``): it must render, log no console error, and request
nothing but itself, on a desktop and on a phone-sized viewport.
"""

from __future__ import annotations

import base64
import copy
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from triage.errors import TriageError
from triage.report.crypto import decrypt_file, generate_identity
from triage.report.summary import (
    build_summary,
    render_html,
    render_markdown,
    render_recap,
    write_summary,
)
from triage.resources import load_schema

REPO = Path(__file__).resolve().parent.parent
CANARY_EMAIL = "canary.patient@example.org"
CANARY_NIR = "185055600608436"


def lab_file_facts() -> dict[str, Any]:
    """Facts shaped like the 2021 lab-file leak (incidents.md #1), synthetic figures."""
    months = [(year, month) for year in range(2015, 2021) for month in range(1, 13)
              if (year, month) <= (2020, 10)]
    by_month = {f"{year}-{month:02d}": 9_000 + 37 * ((year * 12 + month) % 23) + 180 * (year - 2015)
                for year, month in months}
    by_month["2015-01"] = 7
    return {
        "leak": {"id": "lab-export-2021-02", "name": "Medical-laboratory export (synthetic)",
                 "files": [{"name": "export_patients.csv", "size": 1_934_221_312,
                            "sha256": "3fa1" * 16}],
                 "scanned_at": "2026-11-23T17:40:00Z", "triage_version": "0.1.0"},
        "rows": {"read": 2_000_000, "parsed": 1_999_988, "rejected": 12},
        "people": {"distinct": 491_840,
                   "method": "keyed digests of NIR, e-mail and phone, linked by union-find (exact)",
                   "by_identifier_kind": {"national_id": 480_113, "phone": 402_377,
                                          "email": 211_904}},
        "categories": [
            {"id": "national_id", "people": 480_113, "rows": 1_950_000, "special_category": False,
             "gdpr_class": "direct_identifier", "columns": ["nir"]},
            {"id": "last_name", "people": 491_840, "rows": 2_000_000, "special_category": False,
             "gdpr_class": "direct_identifier", "columns": ["nom", "nom_jf"]},
            {"id": "birth_date", "people": 491_500, "rows": 1_990_000, "special_category": False,
             "gdpr_class": "quasi_identifier", "columns": ["ddn"]},
            {"id": "phone", "people": 402_377, "rows": 1_700_000, "special_category": False,
             "gdpr_class": "direct_identifier", "columns": ["tel_port"]},
            {"id": "email", "people": 211_904, "rows": 800_000, "special_category": False,
             # A JSON key can be data: the summary must not copy column names.
             "gdpr_class": "direct_identifier", "columns": [CANARY_EMAIL]},
            {"id": "blood_type", "people": 301_220, "rows": 900_000, "special_category": True,
             "gdpr_class": "special_category", "columns": ["groupe_sanguin"]},
            {"id": "health_note", "people": 58_311, "rows": 97_000, "special_category": True,
             "gdpr_class": "special_category", "columns": ["commentaire"]},
            {"id": "practitioner", "people": 450_000, "rows": 1_800_000, "special_category": False,
             "gdpr_class": "direct_identifier", "columns": ["medecin"]},
            {"id": "ethnic_origin", "people": 4, "rows": 4, "special_category": True,
             "gdpr_class": "special_category", "columns": ["origine"]},
        ],
        "geography": {
            "fr_departement_postcode": {"56": 201_433, "27": 98_220, "45": 87_001, "22": 61_877,
                                        "41": 30_112, "35": 6_210, "29": 2_400, "75": 1_204,
                                        "44": 900, "971": 12, "2A": 3},
            "fr_departement_nir": {"56": 150_010, "27": 80_001, "45": 70_200, "22": 60_002,
                                   "99": 21_000, "75": 30_000, "2B": 5},
            "country_phone": {"FR": 401_000, "BE": 1_370, "CH": 7},
        },
        "time": {"first": "2015-01-04", "last": "2020-10-28", "by_month": by_month},
        "sources": {"organisations": 31, "practitioners": 1_204},
        "circumstances": {"published": True},
    }


def us_facts() -> dict[str, Any]:
    facts = lab_file_facts()
    facts["geography"] = {"us_state": {"CA": 600, "NV": 3, "OR": 240}}
    facts["people"]["distinct"] = 843
    return facts


def tiny_facts() -> dict[str, Any]:
    facts = lab_file_facts()
    facts["people"] = {"distinct": 7, "method": "exact", "by_identifier_kind": {"email": 7}}
    facts["categories"] = [{"id": "email", "people": 7, "rows": 9, "special_category": False,
                            "gdpr_class": "direct_identifier", "columns": ["mail"]}]
    facts["geography"] = {"fr_departement_postcode": {"56": 4, "27": 3}}
    facts["time"] = {"first": None, "last": None, "by_month": {}}
    facts["sources"] = {}
    del facts["circumstances"]
    return facts


ALL_FACTS = [lab_file_facts, us_facts, tiny_facts]


@pytest.fixture(scope="module")
def lab_summary() -> dict[str, Any]:
    return build_summary(lab_file_facts())


@pytest.mark.parametrize("facts", ALL_FACTS, ids=lambda f: f.__name__)
def test_summary_is_valid_against_its_schema(facts) -> None:  # type: ignore[no-untyped-def]
    summary = build_summary(facts())
    jsonschema.Draft202012Validator(load_schema("summary.schema.json")).validate(summary)
    json.dumps(summary)  # JSON-able as is


def _counts(summary: dict[str, Any]) -> list[Any]:
    """Every people or rows count of a summary: the values suppression must cover."""
    breakdowns = [summary["time"]["by_month"], *summary["geography"].values()]
    return ([summary["people"]["distinct"]]
            + [c["count"] for c in summary["people"]["by_identifier_kind"]]
            + [c[field] for c in summary["categories"] for field in ("people", "rows")]
            + [c["count"] for b in breakdowns for c in b["cells"]]
            + [b["total"] for b in breakdowns])


def test_headline_figures(lab_summary: dict[str, Any]) -> None:
    assert lab_summary["people"]["distinct"] == 491_840
    assert lab_summary["special_categories"] == ["blood_type", "ethnic_origin", "health_note"]
    assert lab_summary["severity"]["level"] == "very high"
    assert (lab_summary["time"]["first"], lab_summary["time"]["last"]) == ("2015-01", "2020-10")
    rules = [hint["rule"] for hint in lab_summary["notification"]["hints"]]
    assert rules == ["GDPR Art. 33", "GDPR Art. 34"]


def test_small_counts_are_suppressed_everywhere(lab_summary: dict[str, Any]) -> None:
    for summary in (lab_summary, build_summary(us_facts()), build_summary(tiny_facts())):
        assert [n for n in _counts(summary) if isinstance(n, int) and 1 <= n <= 10] == []
    postcode = lab_summary["geography"]["fr_departement_postcode"]
    by_key = {c["key"]: c["count"] for c in postcode["cells"]}
    assert by_key["2A"] == "<11" and by_key["971"] == ">10"
    ethnic = next(c for c in lab_summary["categories"] if c["id"] == "ethnic_origin")
    assert (ethnic["people"], ethnic["rows"]) == ("<11", "<11")
    months = {c["key"]: c["count"] for c in lab_summary["time"]["by_month"]["cells"]}
    assert months["2015-01"] == "<11"


def test_tiny_leak_headline_is_suppressed() -> None:
    summary = build_summary(tiny_facts())
    assert summary["people"]["distinct"] == "<11"
    assert summary["geography"]["fr_departement_postcode"]["total"] == "<11"


def test_no_identifier_reaches_any_rendering() -> None:
    summary = build_summary(lab_file_facts())
    for text in (json.dumps(summary), render_markdown(summary), render_html(summary)):
        assert CANARY_EMAIL not in text
        assert "tel_port" not in text  # column names are reduced to a count


@pytest.mark.parametrize(("path", "bad_key"), [
    (("geography", "fr_departement_postcode"), "56000"),
    (("geography", "country_phone"), CANARY_EMAIL),
    (("people", "by_identifier_kind"), CANARY_NIR),
    (("time", "by_month"), "2015-01-04"),
])
def test_keys_that_are_not_codes_are_refused_without_quoting(path: tuple[str, str],
                                                             bad_key: str) -> None:
    facts = lab_file_facts()
    facts[path[0]][path[1]][bad_key] = 100
    with pytest.raises(ValueError) as caught:
        build_summary(facts)
    assert bad_key not in str(caught.value)


def test_markdown(lab_summary: dict[str, Any]) -> None:
    text = render_markdown(lab_summary)
    assert "| People (distinct) | 491,840 |" in text
    assert "| ethnic origin | <11 | <11 | yes |" in text
    assert "SE = DPC × EI + CB = 4 × 1 + 1 = **5** (very high)" in text
    assert "| 2A Corse-du-Sud | <11 |" in text


def test_html_is_self_contained(lab_summary: dict[str, Any]) -> None:
    page = render_html(lab_summary)
    assert not re.search(r"""(src|href|action|xlink:href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert "http://" not in page and "https://" not in page
    assert "@import" not in page and "url(" not in page and "<script" not in page.lower()
    assert "default-src 'none'" in page
    assert page.count("<svg") >= 3


def test_html_escapes_text() -> None:
    facts = lab_file_facts()
    facts["leak"]["name"] = "<img src=x onerror=alert(1)>"
    page = render_html(build_summary(facts))
    assert "<img" not in page and "&lt;img src=x" in page


# -- headless Chromium over the DevTools protocol --------------------------------------------

CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(name)), None)


class DevTools:
    """A tiny CDP client over --remote-debugging-pipe (fd 3 in, fd 4 out, NUL-framed JSON)."""

    def __init__(self, binary: str, profile: Path) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def wire_fds() -> None:
            # Move both ends above 4 first: a pipe end may itself be fd 3 or 4.
            pipe_in = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            pipe_out = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(pipe_in, 3)
            os.dup2(pipe_out, 4)

        self.process = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", "--disable-default-apps", "--disable-extensions",
             "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
             "--hide-scrollbars", f"--user-data-dir={profile}", "--remote-debugging-pipe",
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire_fds, pass_fds=(3, 4))
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._from_chrome], [], [], remaining)[0]:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                raise EOFError("Chromium closed the pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float = 20.0) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._read_message(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=5)
        except (OSError, EOFError, TimeoutError, RuntimeError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


def _render_in_chromium(page: Path, profile: Path, width: int) -> dict[str, Any]:
    """Load ``page`` at ``width`` CSS pixels; return requests, console errors, DOM facts, PNG."""
    assert CHROMIUM is not None
    browser = DevTools(CHROMIUM, profile)
    try:
        target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.call("Target.attachToTarget",
                               {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Network", "Runtime", "Log", "Page"):
            browser.call(f"{domain}.enable", session=session)
        browser.call("Emulation.setDeviceMetricsOverride", {"width": width, "height": 900,
                     "deviceScaleFactor": 1, "mobile": width < 600}, session=session)
        browser.call("Page.navigate", {"url": page.as_uri()}, session=session)
        browser.wait_for("Page.loadEventFired")
        dom = json.loads(browser.call("Runtime.evaluate", {"returnByValue": True, "expression": """
            JSON.stringify({
              svgs: document.querySelectorAll('svg').length,
              bars: document.querySelectorAll('rect.fill').length,
              headline: document.querySelector('.cards .value').textContent,
              scrollWidth: document.documentElement.scrollWidth,
              viewport: window.innerWidth,
              height: document.documentElement.scrollHeight,
              fonts: [...document.fonts].length
            })"""}, session=session)["result"]["value"])
        browser.call("Emulation.setDeviceMetricsOverride", {"width": width, "height": dom["height"],
                     "deviceScaleFactor": 1, "mobile": width < 600}, session=session)
        png = base64.b64decode(browser.call("Page.captureScreenshot", {"format": "png"},
                                            session=session)["data"])
    finally:
        browser.close()
    events = browser.events
    return {
        "requests": [e["params"]["request"]["url"] for e in events
                     if e.get("method") == "Network.requestWillBeSent"],
        "errors": [e["params"] for e in events
                   if e.get("method") in ("Runtime.exceptionThrown",)
                   or (e.get("method") == "Runtime.consoleAPICalled"
                       and e["params"]["type"] in ("error", "warning", "assert"))
                   or (e.get("method") == "Log.entryAdded"
                       and e["params"]["entry"]["level"] in ("error", "warning"))],
        "dom": dom,
        "png": png,
    }


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian package "
                    "`chromium`; .ci/run installs it)")
@pytest.mark.parametrize("width", [1000, 375], ids=["desktop", "phone"])
def test_html_renders_in_chromium_offline(tmp_path: Path, lab_summary: dict[str, Any],
                                          width: int) -> None:
    page = tmp_path / "summary.html"
    page.write_text(render_html(lab_summary), encoding="utf-8")
    result = _render_in_chromium(page, tmp_path / "profile", width)

    assert result["requests"] == [page.as_uri()]
    assert result["errors"] == []
    dom = result["dom"]
    assert dom["headline"] == "491,840"
    assert dom["svgs"] >= 3 and dom["bars"] >= 20
    assert dom["scrollWidth"] <= dom["viewport"], "the page scrolls sideways"
    assert dom["fonts"] == 0
    assert result["png"].startswith(b"\x89PNG\r\n\x1a\n") and len(result["png"]) > 20_000
    # The screenshot in docs/ is refreshed on demand: TRIAGE_UPDATE_SCREENSHOT=1 pytest …
    if width == 1000 and os.environ.get("TRIAGE_UPDATE_SCREENSHOT") == "1":
        (REPO / "docs" / "report-screenshot.png").write_bytes(result["png"])


def test_summary_does_not_alias_its_facts() -> None:
    facts = lab_file_facts()
    before = copy.deepcopy(facts)
    build_summary(facts)
    assert facts == before


def test_recap_is_one_screen_without_identifiers(lab_summary: dict[str, Any]) -> None:
    recap = render_recap(lab_summary)
    assert len(recap.splitlines()) <= 20
    assert "491,840 distinct" in recap and "very high" in recap
    assert "56 Morbihan 201,433" in recap
    assert CANARY_EMAIL not in recap


def test_write_summary_leaves_only_ciphertext(tmp_path: Path, lab_summary: dict[str, Any]) -> None:
    identity = tmp_path / "key.txt"
    recipient = generate_identity(identity)
    outdir = tmp_path / "out"
    outdir.mkdir()
    paths = write_summary(lab_summary, outdir, [recipient])
    assert sorted(p.name for p in outdir.iterdir()) == [
        "summary.html.age", "summary.json.age", "summary.md.age"]
    assert all(b"491" not in p.read_bytes() for p in paths)
    assert json.loads(decrypt_file(outdir / "summary.json.age", identity)) == lab_summary
    markdown = decrypt_file(outdir / "summary.md.age", identity).decode()
    assert markdown == render_markdown(lab_summary)


def test_write_summary_needs_a_recipient_or_an_explicit_plaintext(tmp_path: Path,
                                                                  lab_summary: dict) -> None:
    with pytest.raises(TriageError, match="no recipient"):
        write_summary(lab_summary, tmp_path, [])
    assert list(tmp_path.iterdir()) == []
    paths = write_summary(lab_summary, tmp_path, [], plaintext=True)
    assert [p.name for p in paths] == ["summary.json", "summary.html", "summary.md"]
    assert json.loads(paths[0].read_text(encoding="utf-8")) == lab_summary
    recipient = generate_identity(tmp_path / "key.txt")
    both = write_summary(lab_summary, tmp_path / "both", [recipient], plaintext=True)
    assert [p.name for p in both] == ["summary.json.age", "summary.json", "summary.html.age",
                                      "summary.html", "summary.md.age", "summary.md"]


def test_long_breakdowns_chart_the_largest_and_fold_the_rest() -> None:
    facts = lab_file_facts()
    facts["geography"] = {"fr_departement_nir": {f"{n:02d}": 1000 + n for n in range(1, 31)}}
    page = render_html(build_summary(facts))
    folded = page[page.index("<details>"):page.index("</details>")]
    assert "All 30 regions" in folded and "01 Ain" in folded and "30 Gard" in folded
    chart = page[page.index("département of birth"):page.index("<details>")]
    assert chart.count('class="fill"') == 12 and "30 Gard" in chart and "01 Ain" not in chart
