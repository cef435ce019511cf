"""Time `manage.py analyze` as a whole process, beside the time to merely load the same file.

    .venv/bin/python bench/analyze.py [--runs 5]

Prints, per input, the median wall time of the analyze command and of a plain `json.load`
(or a YAML load) in a fresh interpreter, and their ratio. Both run in the same invocation,
alternately, so that a busy machine slows both alike.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.public_specs import SPECS, spec_path  # noqa: E402


def _time(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)  # noqa: S603 - our own commands
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    python = sys.executable
    inputs = [ROOT.parent / "shared" / "corpus" / "shop" / "v1-design.md", spec_path(SPECS[0])]
    print(f"{'input':40} {'analyze (s)':>12} {'load (s)':>10} {'ratio':>7}")
    for path in inputs:
        loader = (
            "import json,sys; json.load(open(sys.argv[1]))"
            if path.suffix == ".json"
            else "import sys; open(sys.argv[1]).read()"
        )
        analyze_times, load_times = [], []
        for _ in range(args.runs):
            analyze_times.append(_time([python, "manage.py", "analyze", str(path), "--only", "traceability"]))
            load_times.append(_time([python, "-c", loader, str(path)]))
        analyze_median, load_median = statistics.median(analyze_times), statistics.median(load_times)
        print(f"{path.name:40} {analyze_median:12.2f} {load_median:10.2f} {analyze_median / load_median:7.1f}")


if __name__ == "__main__":
    main()
