"""Detection scored on every synthetic scenario: headers in each language, and none.

Targets (issue 4): column-level macro F1 >= 0.98 with real headers, >= 0.95 with
obfuscated headers, and nothing flagged in the non-personal ``control`` scenario.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from synthetic.engine import generate
from synthetic.scenario import load, scenarios
from triage.cli import main
from triage.detect.evaluate import evaluate, score
from triage.sources import open_sources

ROWS = 2000
HEADED_TARGET = 0.98
OBFUSCATED_TARGET = 0.95

#: Known shortfalls with headers obfuscated, kept visible (strict: a fix must remove them).
#: None left: insurers' member numbers and NABM act codes, which values alone cannot type,
#: are typed by their table (triage/detect/context.py; tests/test_detect_context.py).
OBFUSCATED_SHORTFALLS: dict[str, str] = {}


def _locales(name: str) -> list[str]:
    return sorted(load(name)["columns"][0]["headers"])


@pytest.fixture(scope="module")
def dumps(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("scenarios")
    made: dict[tuple[str, str, bool], Path] = {}

    def make(name: str, locale: str, obfuscate: bool) -> Path:
        key = (name, locale, obfuscate)
        if key not in made:
            path = root / f"{name}-{locale}-{int(obfuscate)}.dump"
            generate(name, ROWS, path, locale=locale, obfuscate_headers=obfuscate, seed=7)
            made[key] = path
        return made[key]

    return make


HEADED = [(name, locale) for name in scenarios() for locale in _locales(name)]


@pytest.mark.parametrize(("name", "locale"), HEADED, ids=[f"{n}-{loc}" for n, loc in HEADED])
def test_macro_f1_with_real_headers(dumps, name: str, locale: str) -> None:  # type: ignore[no-untyped-def]
    path = dumps(name, locale, False)
    result = evaluate(path, f"{path}.truth.json")
    assert result.macro_f1 >= HEADED_TARGET, result.errors
    if name == "control":
        assert result.flagged == 0, result.errors


OBFUSCATED = [
    pytest.param(name, marks=pytest.mark.xfail(reason=OBFUSCATED_SHORTFALLS[name], strict=True))
    if name in OBFUSCATED_SHORTFALLS else name
    for name in scenarios()
]


@pytest.mark.parametrize("name", OBFUSCATED)
def test_macro_f1_with_obfuscated_headers(dumps, name: str) -> None:  # type: ignore[no-untyped-def]
    spec = load(name)
    path = dumps(name, spec["native_locale"], True)
    result = evaluate(path, f"{path}.truth.json")
    assert result.macro_f1 >= OBFUSCATED_TARGET, result.errors
    if name == "control":
        assert result.flagged == 0, result.errors


def _obfuscated_dump(root: Path, name: str, rows: int, seed: int) -> Path:
    path = root / f"{name}-{rows}.dump"
    generate(name, rows, path, locale=load(name)["native_locale"], obfuscate_headers=True,
             seed=seed)
    return path


@pytest.mark.parametrize("name", ["pixel_events", "us_patients"])
def test_a_file_read_in_one_batch_is_judged_on_a_full_sample(tmp_path: Path, name: str) -> None:
    # Seed 1 at 20,000 rows scored 0.750 and 0.947 when one batch gave 157 sampled rows:
    # pixel_events' members and us_patients' towns did not come back within them.
    path = _obfuscated_dump(tmp_path, name, 20_000, seed=1)
    (source,) = open_sources(path)
    assert sum(1 for _ in source.batches()) == 1  # the case under test
    result = evaluate(path, f"{path}.truth.json")
    assert result.macro_f1 >= OBFUSCATED_TARGET, result.errors


@pytest.mark.slow
@pytest.mark.parametrize("seed", [3, 7])
@pytest.mark.parametrize("name", scenarios())
def test_macro_f1_with_obfuscated_headers_in_a_few_large_batches(
        tmp_path: Path, name: str, seed: int) -> None:
    # 200,000 rows arrive in 2 to 7 batches; seed 7 scored 0.857 (pixel_events) and
    # 0.947 (us_patients) when each batch added at most 256 rows to the sample, and
    # seed 3 lost pixel_events' ZIP codes (0.857) to a repeat test inside its noise.
    path = _obfuscated_dump(tmp_path, name, 200_000, seed=seed)
    result = evaluate(path, f"{path}.truth.json")
    assert result.macro_f1 >= OBFUSCATED_TARGET, result.errors
    if name == "control":
        assert result.flagged == 0, result.errors


def test_scoring_counts_wrong_category_as_fp_and_fn() -> None:
    result = score({"a": "email", "b": "phone", "c": None, "d": "email"},
                   {"a": "email", "b": "email", "c": "age", "d": None})
    email, phone, age = (result.categories[c] for c in ("email", "phone", "age"))
    assert (email.tp, email.fp, email.fn) == (1, 1, 1)
    assert (phone.tp, phone.fp, phone.fn) == (0, 0, 1)
    assert (age.tp, age.fp, age.fn) == (0, 1, 0)
    assert score({"x": None}, {"x": None}).macro_f1 == 1.0


def test_detect_and_eval_commands(dumps) -> None:  # type: ignore[no-untyped-def]
    path = dumps("appointments", "fr", False)
    runner = CliRunner()
    table = runner.invoke(main, ["detect", str(path)])
    assert table.exit_code == 0, table.output
    assert "email" in table.output
    as_json = runner.invoke(main, ["detect", str(path), "--json"])
    assert as_json.exit_code == 0
    document = json.loads(as_json.output)
    truth = json.loads(Path(f"{path}.truth.json").read_text(encoding="utf-8"))
    assert {c["name"] for c in document["columns"]} == set(truth["columns"])
    scored = runner.invoke(main, ["eval", str(path), "--truth", f"{path}.truth.json"])
    assert scored.exit_code == 0, scored.output
    assert "macro F1" in scored.output
    missing = runner.invoke(main, ["eval", str(path), "--truth", str(path)])
    assert missing.exit_code == 2
