"""Time `manage.py generate` on Stripe's and GitHub's OpenAPI descriptions beside
datamodel-code-generator on the same files, in the same run.

    .venv/bin/python bench/endpoints.py [--runs 3] [--specs stripe,github] [--skip-peer] [--skip-proof]

Each run is a whole process (interpreter and Django start-up included): ours is
`manage.py generate SPEC -o TMPDIR` (parse, generate the app and its project, write the files);
the peer is `datamodel-codegen --input SPEC --input-file-type openapi --output TMPFILE` (Pydantic
models only). Runs alternate between the two so that a busy machine slows both alike; wall time
and peak memory (the process's maximum resident set, from wait4) are medians, and the ratio is
theirs ÷ ours. Goals (issue 13): Stripe ≤ 3 s, GitHub ≤ 10 s, peak memory ≤ 500 MiB, and at
least 10x faster than the peer.

Then the proof of the shop design (`../shared/corpus/shop/v1-design.md`), as a whole process:
`manage.py analyze DESIGN --only endpoints --prove --format json -o TMPFILE` (generation, then the
seven confined steps on a sandbox database of its own: check, makemigrations, migrate, ruff, the
schema and its drift, the contract tests twice with their SQL captured). Goal: ≤ 60 s. It needs the
sandbox (SANDBOX_DATABASE_URL, `manage.py sandbox_setup`).
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.public_specs import SPECS, spec_path  # noqa: E402

print = functools.partial(print, flush=True)  # each line as soon as it is measured
GOALS = {"stripe": 3.0, "github": 10.0}
PROOF_GOAL_SECONDS = 60.0
SHOP = ROOT.parent / "shared" / "corpus" / "shop" / "v1-design.md"
MEMORY_GOAL_MIB = 500


def _measure(command: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(seconds, peak MiB, exit status) of one process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603 - fixed commands
    # stderr is read after the process ends: a process writing more than a pipe holds would block,
    # which neither tool does (a few warnings at most).
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode and process.stderr is not None:
        sys.stderr.write(process.stderr.read().decode(errors="replace")[-2000:])
    return elapsed, usage.ru_maxrss / 1024, process.returncode


def _peer(peer: str, spec: Path, target: Path) -> list[str]:
    return [peer, "--input", str(spec), "--input-file-type", "openapi", "--output", str(target)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--specs", default="stripe,github")
    parser.add_argument("--skip-peer", action="store_true", help="time ours only")
    parser.add_argument("--skip-proof", action="store_true", help="do not time the proof of the shop design")
    args = parser.parse_args()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "workbench.settings"}
    python = sys.executable
    peer = str(Path(python).parent / "datamodel-codegen")
    wanted = [s for s in SPECS if s.key in args.specs.split(",")]
    print(f"{'spec':8} {'tool':24} {'median s':>9} {'peak MiB':>9}  runs")
    for spec in wanted:
        path = spec_path(spec)
        ours: list[tuple[float, float]] = []
        theirs: list[tuple[float, float]] = []
        with tempfile.TemporaryDirectory() as tmp:
            for run in range(args.runs):
                out = Path(tmp) / f"ours-{run}"
                seconds, mib, code = _measure([python, "manage.py", "generate", str(path), "-o", str(out)], env)
                if code:
                    raise SystemExit(f"manage.py generate failed on {spec.key} (exit {code})")
                ours.append((seconds, mib))
                if not args.skip_peer:
                    # A file, or a package directory where the document's schema names need modules
                    # (Stripe's): it refuses a file then, so that case is given a directory.
                    seconds, mib, code = _measure(_peer(peer, path, Path(tmp) / f"peer-{run}.py"), env)
                    if code:
                        seconds, mib, code = _measure(_peer(peer, path, Path(tmp) / f"peer-{run}"), env)
                    theirs.append((seconds, mib) if code == 0 else (float("nan"), mib))
            files = sum(1 for p in (Path(tmp) / "ours-0").rglob("*") if p.is_file())
            lines = sum(p.read_text().count("\n") for p in (Path(tmp) / "ours-0").rglob("*.py"))
            peer_out = list(Path(tmp).glob("peer-0*"))
            peer_files = [f for p in peer_out for f in ([p] if p.is_file() else p.rglob("*.py"))]
            peer_lines = sum(f.read_text().count("\n") for f in peer_files)
        ours_s = statistics.median(s for s, _ in ours)
        ours_m = statistics.median(m for _, m in ours)
        goal = GOALS.get(spec.key)
        verdict = "" if goal is None else (" meets" if ours_s <= goal and ours_m <= MEMORY_GOAL_MIB else " MISSES")
        print(
            f"{spec.key:8} {'manage.py generate':24} {ours_s:9.2f} {ours_m:9.0f}  {[round(s, 2) for s, _ in ours]}"
            f"  ({files} files, {lines} lines of Python; goal ≤ {goal} s and ≤ {MEMORY_GOAL_MIB} MiB:{verdict})"
        )
        if theirs:
            their_s = statistics.median(s for s, _ in theirs)
            their_m = statistics.median(m for _, m in theirs)
            print(
                f"{spec.key:8} {'datamodel-codegen 0.89':24} {their_s:9.2f} {their_m:9.0f}  "
                f"{[round(s, 2) for s, _ in theirs]}  ({peer_lines} lines of Pydantic models)"
            )
            print(f"{spec.key:8} ratio (theirs ÷ ours): {their_s / ours_s:.1f}x time, {their_m / ours_m:.1f}x memory")
    if not args.skip_proof:
        _proof(python, env, args.runs)


def _proof(python: str, env: dict[str, str], runs: int) -> None:
    import json

    times = []
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        command = [python, "manage.py", "analyze", str(SHOP), "--only", "endpoints", "--prove", "--format", "json"]
        for _ in range(runs):
            seconds, _mib, code = _measure([*command, "-o", str(report)], env)
            if code not in (0, 1):  # 1: findings at or above --fail-on's default
                raise SystemExit(f"manage.py analyze --prove failed (exit {code})")
            times.append(seconds)
        proof = json.loads(report.read_text())["endpoints"]["proof"]
    median = statistics.median(times)
    steps = ", ".join(
        f"{name} {proof[name]['status']}" for name in proof if isinstance(proof[name], dict) and name != "drift"
    )
    verdict = "meets" if median <= PROOF_GOAL_SECONDS else "MISSES"
    print(
        f"{'shop':8} {'analyze --prove':24} {median:9.2f} {'':>9}  {[round(s, 2) for s in times]}"
        f"  ({steps}; drift {proof['drift']['reason'] or proof['drift']['status']}; goal ≤ {PROOF_GOAL_SECONDS:.0f} s: {verdict})"
    )


if __name__ == "__main__":
    main()
