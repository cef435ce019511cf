import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import CORPUS, ROOT


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "apps.security", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_security_review_runs_alone_and_summarises() -> None:
    result = _run(str(CORPUS / "shop" / "v1-design.md"))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["endpoints"] == 11
    # the payments table's column and the API's payment schema property
    assert summary["by_rule"]["sec.dp.card-number-stored"] == 1  # the table, and the schema carrying its rows
    assert summary["checklist"]["DP"] == "fail"
    assert "all" not in summary


def test_it_needs_no_django() -> None:
    code = "import runpy, sys; sys.argv=['x', sys.argv[1]]; import apps.security.__main__ as m; m.main([sys.argv[1]]); print('django' in sys.modules, file=sys.stderr)"
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code, str(CORPUS / "shop" / "v1-design.md")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stderr.strip() == "False"


def test_unreadable_input_exits_2_with_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "api.json"
    broken.write_text('{"openapi": "3.0.3", "paths": {')
    result = _run(str(broken))
    assert result.returncode == 2
    assert result.stderr.startswith("cannot analyse: api.json:1: invalid JSON")
