"""Every endpoint, finding and checklist item the analysis reports on the shop corpus and the public
specifications is exactly what it was when the digests were kept (bench/results-digests.json):
work on speed or structure must change no verdict. A deliberate change of verdicts rewrites the
digests (`bench/results_digest.py --write`) in the same commit, and says why."""

import hashlib
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import results_digest  # noqa: E402


@pytest.mark.parametrize("path", results_digest.documents(), ids=lambda path: path.name)
def test_the_results_are_those_kept(path: Path) -> None:
    kept = json.loads(results_digest.KEPT.read_text(encoding="utf-8"))
    serialised, counts = results_digest.serialise(path)
    assert kept[path.name]["sha256"] == hashlib.sha256(serialised.encode()).hexdigest(), counts
