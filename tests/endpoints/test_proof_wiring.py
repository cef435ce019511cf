"""The proof as an analysis runs it: the pipeline given the worker's `prove` (the real runner, on the
real sandbox), the context the worker and the web get, and `manage.py analyze --prove`.

A small design of our own (three operations on one table) keeps each proof to seconds; its pasted
schema promises a field no column backs and a 422 nothing answers, so that the drift is never empty."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema

from apps.analysis.engine.pipeline import AnalyzerContext, analyze
from apps.analysis.services import analyzer_context
from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput
from apps.endpoints.engine.analyzer import GENERATED_OPENAPI, PROOF_STEPS
from apps.endpoints.proof import endpoints_prove, proof_bound_seconds
from apps.reports.engine.report import build_report
from tests.conftest import ROOT

SCHEMA = json.loads((ROOT / "apps" / "reports" / "schema" / "report.schema.json").read_text())

SMALL = """# Notes

### N-1: Writer keeps notes
As a writer, I want to list, add and read notes, so that I remember.

Endpoints: GET /notes, POST /notes, GET /notes/{id}

```openapi
openapi: 3.1.0
info: {title: Notes, version: '1'}
paths:
  /notes:
    get:
      operationId: listNotes
      responses:
        '200':
          description: The notes
          content:
            application/json:
              schema:
                type: array
                items: {$ref: '#/components/schemas/Note'}
    post:
      operationId: createNote
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Note'}
      responses:
        '201':
          description: Created
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Note'}
        '422': {description: Not a note}
  /notes/{id}:
    get:
      operationId: getNote
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        '200':
          description: The note
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Note'}
  /tags:
    get:
      operationId: listTags
      responses:
        '200':
          description: No table backs tags
          content:
            application/json:
              schema:
                type: array
                items: {type: object, properties: {name: {type: string}}}
components:
  schemas:
    Note:
      type: object
      required: [text]
      properties:
        id: {type: integer, readOnly: true}
        text: {type: string}
        colour: {type: string}
```

```dbml
Table notes {
  id bigint [pk, increment]
  text text [not null]
}
```
"""


def _prove(*, files: Any, openapi: Any) -> dict[str, Any]:
    """The worker's callable as it is: the runner with its configured limits, on the sandbox."""
    return endpoints_prove(files=files, openapi=openapi)


def test_the_pipeline_given_prove_reports_each_step_and_each_drift_in_both_documents() -> None:
    seen: list[tuple[Any, ...]] = []
    outcome = analyze(
        DesignInput(document=SMALL, document_name="notes.md"),
        limits=ParseLimits(),
        only=("endpoints",),
        on_progress=lambda *event: seen.append(event),
        context=AnalyzerContext(prove=_prove, prove_limit_seconds=proof_bound_seconds()),
    )
    report = build_report(outcome, generated_at="2026-01-01T00:00:00+00:00", tool_version="1.0")
    jsonschema.validate(report, SCHEMA)

    proof = report["endpoints"]["proof"]
    assert {name: proof[name]["status"] for name in PROOF_STEPS} == dict.fromkeys(PROOF_STEPS, "passed"), proof
    assert proof["status"] == "passed" and proof["reason"] == ""
    drift = proof["drift"]
    assert drift["status"] == "failed" and drift["count"] >= 2
    assert drift["kinds"]["status-missing"] == 1

    found = [f for f in report["findings"] if f["rule_id"].startswith("endpoints.drift.")]
    # GET /tags is a view answering 501 until written: its differences are counted, not findings.
    assert drift["in_operations_not_generated"] >= 1
    assert len(found) == drift["count"] - drift["in_operations_not_generated"]
    assert not [f for f in found if "GET /tags" in f["endpoints"]]
    assert [f["endpoints"] for f in report["findings"] if f["rule_id"] == "endpoints.not-generated"] == [["GET /tags"]]
    assert {f["analyzer"] for f in found} == {"endpoints"}
    for finding in found:
        pasted, generated = finding["locations"]
        assert pasted["document"] == "notes.md" and pasted["line"], finding
        assert generated["document"] == GENERATED_OPENAPI and generated["pointer"] is not None
    colour = next(f for f in found if "colour" in f["title"] and f["rule_id"] == "endpoints.drift.field-missing")
    assert colour["severity"] == "medium"
    # The pasted place is the line of `colour:` in the document.
    assert SMALL.splitlines()[colour["locations"][0]["line"] - 1].strip().startswith("colour:")
    missing_422 = next(f for f in found if f["rule_id"] == "endpoints.drift.status-missing")
    assert missing_422["endpoints"] == ["POST /notes"] and "POST /notes" in missing_422["message"]

    # Each operation as its contract test called it, with the SQL it ran.
    operations = {o["operation_id"]: o for o in report["endpoints"]["operations"]}
    listed = operations["listNotes"]
    assert listed["called"] == {"test": "test_list_notes", "outcome": "passed", "status": 200, "requested": True}
    assert listed["queries_per_request"] == len(listed["queries"]) >= 1
    assert any('FROM "notes"' in q for q in listed["queries"])
    assert listed["queries_per_item"] == 0.0
    assert operations["getNote"]["called"]["status"] == 200 and "queries_per_item" not in operations["getNote"]
    assert operations["listTags"]["called"]["outcome"] == "xfailed"

    # The endpoints stage said it was proving while it did, then ended.
    endpoints_events = [event for event in seen if event[0] == "endpoints"]
    assert endpoints_events[0][1:3] == ("running", endpoints_events[1][2])
    assert endpoints_events[1][1] == "running" and endpoints_events[1][3].startswith("proving the generated project")
    assert f"at most {proof_bound_seconds():,} s" in endpoints_events[1][3]
    assert endpoints_events[-1][1] == "succeeded"


def test_without_the_sandbox_the_context_has_no_proof(settings: Any) -> None:
    settings.ENDPOINTS_PROOF_ENABLED = True
    assert analyzer_context(with_sandbox=False, with_proof=True).prove is None
    assert analyzer_context(with_sandbox=True, with_proof=False).prove is None
    assert analyzer_context(with_sandbox=True, with_proof=True).prove is endpoints_prove


def test_the_analyze_command_proves_only_with_prove(tmp_path: Path) -> None:
    design = tmp_path / "notes.md"
    design.write_text(SMALL, encoding="utf-8")

    def run(*extra: str) -> dict[str, Any]:
        result = subprocess.run(  # noqa: S603 - our own command
            [sys.executable, "manage.py", "analyze", str(design), "--only", "endpoints", *extra],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        report: dict[str, Any] = json.loads(result.stdout)
        jsonschema.validate(report, SCHEMA)
        return report

    proved = run("--prove")
    assert proved["endpoints"]["proof"]["status"] == "passed", proved["endpoints"]["proof"]
    assert proved["endpoints"]["proof"]["migrate"]["status"] == "passed"
    assert any(f["rule_id"] == "endpoints.drift.status-missing" for f in proved["findings"])

    plain = run()
    assert plain["endpoints"]["proof"]["status"] == "not run"
    assert not any(f["rule_id"].startswith("endpoints.drift.") for f in plain["findings"])
