import os
import subprocess
import sys

from tests.conftest import ROOT


def test_the_start_script_says_which_service_is_missing_and_how_to_point_elsewhere() -> None:
    env = {**os.environ, "DATABASE_URL": "postgres://root@127.0.0.1:1/workbench", "REDIS_URL": "redis://127.0.0.1:1/0"}
    result = subprocess.run(
        [sys.executable, "scripts/check_services.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "no PostgreSQL answers at 127.0.0.1:1" in result.stderr
    assert "DATABASE_URL=postgres://" in result.stderr
    assert "no Redis answers at redis://127.0.0.1:1/0" in result.stderr
    assert "REDIS_URL=redis://" in result.stderr
    assert "Traceback" not in result.stderr
