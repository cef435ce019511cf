"""The compiled JSON position scanner on hostile input: fuzzed against the text walk for a bounded
time, then built with AddressSanitizer and UndefinedBehaviorSanitizer and run on the fuzz corpus,
fresh mutations and the public specifications (see jsonpos_fuzz.py)."""

import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from tests.designs import jsonpos_fuzz
from tests.public_specs import SPECS, spec_path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "apps" / "designs" / "engine" / "_jsonpos.c"
# How long the sanitized build is fuzzed, after the corpus and the specifications (seconds).
SANITIZER_SECONDS_SETTING = "JSONPOS_SANITIZER_FUZZ_SECONDS"
SANITIZER_FLAGS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]
WARNINGS = ["-Wall", "-Wextra", "-Werror"]


def test_the_scanner_agrees_with_the_text_walk_on_mutated_texts() -> None:
    seconds = float(os.environ.get(jsonpos_fuzz.SECONDS_SETTING, jsonpos_fuzz.DEFAULT_SECONDS))
    seed = int(time.time())
    tally = jsonpos_fuzz.run(seconds, seed=seed)
    assert tally.iterations > 100 and tally.accepted > 10
    assert not tally.failures, f"seed {seed}: {tally.failures[:3]}"


def _runtime(name: str) -> str:
    found = subprocess.run(["gcc", f"-print-file-name={name}"], capture_output=True, text=True, check=True)  # noqa: S603,S607 - gcc from PATH, as the install needs it
    return found.stdout.strip()


def test_the_scanner_runs_clean_under_the_sanitizers(tmp_path: Path) -> None:
    if shutil.which("gcc") is None:
        pytest.fail("gcc is needed to build the scanner (scripts/lib.sh installs it)")
    asan = _runtime("libasan.so")
    if not os.path.isabs(asan):
        pytest.skip("this gcc has no AddressSanitizer runtime")
    built = tmp_path / "_jsonpos.so"
    include = sysconfig.get_paths()["include"]
    compile_command = [
        "gcc", "-shared", "-fPIC", "-O1", "-g", *SANITIZER_FLAGS, *WARNINGS, f"-I{include}", str(SOURCE), "-o", str(built),
    ]  # fmt: skip
    compiled = subprocess.run(compile_command, capture_output=True, text=True, check=False)  # noqa: S603 - fixed arguments
    assert compiled.returncode == 0, compiled.stderr
    documents = [str(spec_path(spec)) for spec in SPECS]
    environment = {
        **os.environ,
        "LD_PRELOAD": asan,
        "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1",
        "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
        "PYTHONMALLOC": "malloc",  # every PyMem block from malloc, so that ASan guards each one
        jsonpos_fuzz.SECONDS_SETTING: os.environ.get(SANITIZER_SECONDS_SETTING, "15"),
    }
    run = subprocess.run(  # noqa: S603 - our interpreter and module
        [sys.executable, "-m", "tests.designs.jsonpos_fuzz", "--module", str(built), *documents],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-6000:]
    assert "0 failures" in run.stdout and "ERROR: AddressSanitizer" not in run.stderr
    assert "runtime error" not in run.stderr, run.stderr[-3000:]
