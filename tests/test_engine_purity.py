import subprocess
import sys

from tests.conftest import ROOT

ENGINES = [
    "apps.designs.engine.loader",
    "apps.analysis.engine.pipeline",
    "apps.analysis.engine.traceability",
    "apps.reports.engine.report",
    "apps.security.engine.review",
    "apps.sandbox.engine",
    "apps.endpoints.engine.analyzer",
    "apps.endpoints.engine.drift",
    "apps.review.engine",
    "apps.guides.engine.steps",
]


def test_importing_the_engines_leaves_django_out() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in ENGINES)
        + "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.') or m.startswith('celery')))"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
