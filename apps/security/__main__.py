"""`python -m apps.security FILE`: the security review alone, without Django, for quick checks
and benchmarks. Prints a JSON summary (counts by rule and the checklist); `--findings` prints
every finding as well. Exit 2 with a one-line reason when the file cannot be analysed."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import input_from_file, parse_design
from apps.designs.engine.text import InputError, decode_document
from apps.security.engine.review import analyze_security


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apps.security", description=__doc__)
    parser.add_argument("file")
    parser.add_argument("--findings", action="store_true", help="print every finding too")
    args = parser.parse_args(argv)
    path = Path(args.file)
    try:
        data = path.read_bytes()
        text = decode_document(data, document=path.name)
    except (OSError, InputError) as exc:
        print(f"cannot analyse: {getattr(exc, 'problem', exc)}", file=sys.stderr)
        return 2
    result = parse_design(input_from_file(path.name, text, data=data), limits=ParseLimits())
    if not result.ok:
        first = result.fatal[0]
        print(f"cannot analyse: {first.source.document}:{first.source.line}: {first.message}", file=sys.stderr)
        return 2
    findings, section = analyze_security(result.model)
    summary = {
        "endpoints": len(result.model.endpoints),
        "findings": len(findings),
        "by_rule": dict(Counter(f.rule_id for f in findings).most_common()),
        "checklist": {item["key"]: item["status"] for item in section["checklist"]},
    }
    if args.findings:
        summary["all"] = [f.as_dict() for f in findings]
    json.dump(summary, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
