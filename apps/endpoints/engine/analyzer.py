"""The endpoints analyzer: the generated app as a report section, and a finding for each reason
operations could not be generated (never a silent drop). The proof (booting the app, diffing its
schema, calling each operation) is not built yet and the section says so."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from apps.designs.engine.findings import Finding, fingerprint
from apps.designs.engine.model import DesignModel, SourceRef
from apps.endpoints.engine.generate import CannotGenerate, OperationOutcome, generate_app
from apps.endpoints.engine.project import project_files

ANALYZER = "endpoints"
PROOF_NOT_BUILT = {
    "status": "not built yet",
    "reason": (
        "the proof (manage.py check, makemigrations --check, migrate, ruff, the drf-spectacular schema diffed "
        "against the pasted OpenAPI, each operation called against synthetic rows) is not built yet: nothing "
        "here has been run"
    ),
}


def analyze_endpoints(model: DesignModel, *, max_page_size: int = 100) -> tuple[list[Finding], dict[str, Any]]:
    """Generate the app; the section lists every operation, the files and the renamed names."""
    try:
        generation = generate_app(model, max_page_size=max_page_size)
    except CannotGenerate as exc:
        return [], {"operations": [], "files": [], "renamed": [], "notes": [str(exc)], "proof": PROOF_NOT_BUILT}
    section = {
        "operations": [_operation(o) for o in generation.operations],
        "files": [{"path": f.path, "content": f.content} for f in project_files(generation)],
        "renamed": [
            {"where": r.scope, "original": r.original, "name": r.name, "why": r.why} for r in generation.renamed
        ],
        "notes": list(generation.notes),
        "proof": PROOF_NOT_BUILT,
    }
    return _findings(generation.operations), section


def _operation(outcome: OperationOutcome) -> dict[str, Any]:
    return {
        "operation_id": outcome.operation_id,
        "method": outcome.method,
        "path": outcome.path,
        "generated": outcome.generated,
        "reason": outcome.reason,
        "view": outcome.view,
        "notes": list(outcome.notes),
        "enforces": [{"kind": kind, "detail": detail} for kind, detail in outcome.enforces],
    }


def _findings(outcomes: tuple[OperationOutcome, ...]) -> list[Finding]:
    """One finding per reason, each operation it applies to a place."""
    by_reason: dict[str, list[OperationOutcome]] = defaultdict(list)
    for outcome in outcomes:
        if not outcome.generated:
            by_reason[outcome.reason].append(outcome)
    findings = []
    for reason, items in by_reason.items():
        stub = reason.startswith("no table of the data model backs it")
        count = len(items)
        findings.append(
            Finding(
                analyzer=ANALYZER,
                rule_id="endpoints.not-generated",
                severity="info" if stub else "low",
                title=f"{count} operation{'s' if count != 1 else ''} not generated: {reason.split(':')[0]}",
                message=f"Not generated ({reason}): "
                + ", ".join(f"{o.method} {o.path}" for o in items[:20])
                + (f" and {count - 20} more" if count > 20 else ""),
                fix=(
                    "Add the table the operation reads or writes to the data model (its name matching the path), "
                    "or write the view yourself"
                    if stub
                    else "Change the design so that Django can serve the operation, or write its view yourself"
                ),
                locations=tuple(_where(o) for o in items),
                fingerprint=fingerprint(ANALYZER, "endpoints.not-generated", reason),
                endpoints=tuple(f"{o.method} {o.path}" for o in items),
            )
        )
    return findings


def _where(outcome: OperationOutcome) -> SourceRef:
    return outcome.source
