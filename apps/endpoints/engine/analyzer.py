"""The endpoints analyzer: the generated app as a report section, and a finding for each reason
operations could not be generated (never a silent drop). Given a `prove` callable (the worker's,
with the sandbox), the generated project is proved and each difference between its OpenAPI and
the pasted one is a finding with both places; without one, the section says the proof was not run."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from apps.designs.engine.findings import Finding, fingerprint
from apps.designs.engine.model import DesignModel, Severity, SourceRef
from apps.endpoints.engine import drift
from apps.endpoints.engine.calls import calls_fields, n_plus_one_findings, operation_calls
from apps.endpoints.engine.generate import CannotGenerate, OperationOutcome, generate_app
from apps.endpoints.engine.project import project_files

ANALYZER = "endpoints"
PROOF_STEPS = ("check", "makemigrations", "migrate", "ruff", "schema", "contract_tests", "queries")
PROOF_NOT_RUN = {
    "status": "not run",
    "reason": (
        "not run: the proof (manage.py check, makemigrations --check, migrate, ruff, the drf-spectacular schema "
        "diffed against the pasted OpenAPI, each operation called by its contract test with its SQL captured) runs "
        "in the worker with the sandbox; nothing here has been run"
    ),
}
# Where a drift item's generated side is: the OpenAPI drf-spectacular wrote for the generated project.
GENERATED_OPENAPI = "generated-openapi"

# Takes the generated files and the pasted OpenAPI document (or None); gives the proof's dict
# (apps.endpoints.proof.endpoints_prove: the seven steps, `calls` and `drift`).
ProveFunction = Callable[..., dict[str, Any]]


def analyze_endpoints(
    model: DesignModel, *, max_page_size: int = 100, prove: ProveFunction | None = None
) -> tuple[list[Finding], dict[str, Any]]:
    """Generate the app; the section lists every operation, the files and the renamed names.

    With `prove`, the generated project is proved: `proof` holds each step's result and the drift
    summary, and each drift item is a finding. Without it, `proof` says it was not run."""
    try:
        generation = generate_app(model, max_page_size=max_page_size)
    except CannotGenerate as exc:
        not_run = {"status": "not run", "reason": "not run: nothing could be generated"} if prove else PROOF_NOT_RUN
        return [], {"operations": [], "files": [], "renamed": [], "notes": [str(exc)], "proof": dict(not_run)}
    files = project_files(generation)
    section = {
        "operations": [_operation(o) for o in generation.operations],
        "files": [{"path": f.path, "content": f.content} for f in files],
        "renamed": [
            {"where": r.scope, "original": r.original, "name": r.name, "why": r.why} for r in generation.renamed
        ],
        "notes": list(generation.notes),
        "proof": dict(PROOF_NOT_RUN),
    }
    findings = _findings(generation.operations)
    if prove is not None:
        openapi = model.api_document.data if model.api_document is not None else None
        result = prove(files=files, openapi=openapi)
        section["proof"] = proof_section(result)
        calls = result.get("calls")
        for outcome, entry in zip(generation.operations, section["operations"], strict=True):
            if outcome.test:
                entry.update(calls_fields(operation_calls(outcome.test, calls, lists=outcome.action == "list")))
        # An operation not generated (a view answering 501 until written) differs from the spec
        # everywhere: its finding says so once, and its drift is counted, not listed.
        stubs = {f"{o.method} {o.path}" for o in generation.operations if not o.generated}
        items = result.get("drift", {}).get("items", [])
        listed = [item for item in items if str(item.get("operation", "")) not in stubs]
        section["proof"]["drift"]["in_operations_not_generated"] = len(items) - len(listed)
        findings += drift_findings(model, listed)
        findings += n_plus_one_findings(generation.operations, calls, max_page_size=max_page_size)
    return findings, section


def proof_section(result: dict[str, Any]) -> dict[str, Any]:
    """The report's `proof`: each step as the runner gave it, `status` passed only when all seven
    passed (the drift has a status of its own), and the drift as a summary (its items are findings)."""
    steps = {name: dict(result[name]) for name in PROOF_STEPS if name in result}
    failed = [name for name in PROOF_STEPS if steps.get(name, {}).get("status") != "passed"]
    drift_result = result.get("drift") or {"status": "failed", "reason": "not run", "items": []}
    items = drift_result.get("items", [])
    return {
        "status": "failed" if failed else "passed",
        "reason": "; ".join(f"{name}: {steps.get(name, {}).get('reason') or 'not run'}" for name in failed),
        **steps,
        "drift": {
            "status": drift_result.get("status", "failed"),
            "reason": drift_result.get("reason", ""),
            "count": len(items),
            "kinds": dict(sorted(Counter(str(item.get("kind", "")) for item in items).items())),
        },
    }


# Per kind of drift: severity and what to do. Medium where a client written from the pasted
# document breaks (something it needs is absent, typed otherwise, or less protected); low where the
# served API offers more, or differs in what clients usually tolerate.
_CHANGE_CODE = "Change the design (or the generated code) so that the served API matches the pasted document"
_CHANGE_DOC = "Document what is served in the pasted OpenAPI, or leave it out of the generated code"
_DRIFT_RULES: dict[str, tuple[Severity, str]] = {
    drift.OPERATION_MISSING: ("medium", _CHANGE_CODE + " (a table backing the operation, or a view of your own)"),
    drift.OPERATION_EXTRA: ("low", _CHANGE_DOC),
    drift.PARAMETER_MISSING: ("medium", _CHANGE_CODE),
    drift.PARAMETER_EXTRA: ("low", _CHANGE_DOC),
    drift.PARAMETER_REQUIRED: ("medium", _CHANGE_CODE),
    drift.PARAMETER_TYPE: ("medium", _CHANGE_CODE),
    drift.REQUEST_BODY_MISSING: ("medium", _CHANGE_CODE),
    drift.REQUEST_BODY_EXTRA: ("low", _CHANGE_DOC),
    drift.MEDIA_TYPE_MISSING: ("low", _CHANGE_CODE + " (a parser for the media type)"),
    drift.FIELD_MISSING: ("medium", _CHANGE_CODE + " (a column for the field, or a serializer field of your own)"),
    drift.FIELD_EXTRA: ("low", _CHANGE_DOC),
    drift.FIELD_TYPE: ("medium", _CHANGE_CODE),
    drift.FIELD_NULLABLE: ("medium", _CHANGE_CODE),
    drift.FIELD_FORMAT: ("low", _CHANGE_CODE),
    drift.FIELD_ENUM: ("medium", _CHANGE_CODE),
    drift.FIELD_REQUIRED: ("medium", _CHANGE_CODE),
    drift.STATUS_CODE: ("low", _CHANGE_CODE),
    drift.STATUS_MISSING: ("low", _CHANGE_CODE + " (the view answering that status), or leave it out of the document"),
    drift.STATUS_EXTRA: ("low", _CHANGE_DOC),
    drift.RESPONSE_BODY_MISSING: ("medium", _CHANGE_CODE),
    drift.RESPONSE_BODY_EXTRA: ("low", _CHANGE_DOC),
    drift.SECURITY_ANONYMOUS: ("medium", _CHANGE_CODE + ": require authentication on the operation"),
    drift.SECURITY_REQUIRED: ("low", _CHANGE_CODE + ", or document the authentication the operation requires"),
    drift.SECURITY_SCHEMES: ("medium", _CHANGE_CODE + " (an authentication class for the scheme)"),
    drift.TRUNCATED: ("low", "Compare what is left yourself, or raise the ENDPOINTS_DRIFT_* limits"),
}


def drift_findings(model: DesignModel, items: Sequence[dict[str, Any]]) -> list[Finding]:
    """One finding per drift item (rule `endpoints.drift.<kind>`), placed both in the pasted document
    (its line, through the document's locator) and in the generated OpenAPI (its JSON pointer)."""
    findings = []
    for item in items:
        kind = str(item.get("kind", ""))
        operation = str(item.get("operation", ""))
        description = str(item.get("description", ""))
        severity, fix = _DRIFT_RULES.get(kind, ("low", _CHANGE_CODE))
        rule_id = f"endpoints.drift.{kind}"
        subject = operation or "The API"
        findings.append(
            Finding(
                analyzer=ANALYZER,
                rule_id=rule_id,
                severity=severity,
                title=f"{subject}: {description}",
                message=(
                    f"{subject}: {description}. The generated project's OpenAPI (drf-spectacular's) differs here from "
                    "the pasted document."
                ),
                fix=fix,
                locations=(
                    _pasted_place(model, str(item.get("pasted", ""))),
                    SourceRef(document=GENERATED_OPENAPI, pointer=str(item.get("generated", ""))),
                ),
                fingerprint=fingerprint(ANALYZER, rule_id, f"{operation}\x1f{item.get('pasted', '')}\x1f{description}"),
                endpoints=(operation,) if operation else (),
            )
        )
    return findings


def _pasted_place(model: DesignModel, pointer: str) -> SourceRef:
    document = model.api_document
    if document is None:  # drift is only found against a pasted document; kept total all the same
        return SourceRef(document=model.documents[0] if model.documents else "", pointer=pointer)
    return document.locate(pointer)


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
        "test": outcome.test,
        "key": outcome.key,
        "pointer": outcome.source.pointer or "",
        "access": dict(outcome.access),
    }


def _findings(outcomes: tuple[OperationOutcome, ...]) -> list[Finding]:
    """One finding per reason, each operation it applies to a place."""
    by_reason: dict[str, list[OperationOutcome]] = defaultdict(list)
    for outcome in outcomes:
        if not outcome.generated:
            by_reason[outcome.reason].append(outcome)
    findings = []
    for reason, items in by_reason.items():
        # A view that validates the request and answers 501 until written: nothing of the design is wrong.
        stub = "answers 501 until" in reason
        no_table = reason.startswith("no table of the data model backs it")
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
                    if no_table
                    else "Write what the operation does in its generated view (it validates the request and answers "
                    "501 until then), or add the table its body is a row of"
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
