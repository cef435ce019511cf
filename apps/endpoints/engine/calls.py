"""What the proof's calls of the generated operations say: the queries each request ran, and the
queries that grow with the rows a list shows (N+1), with the relation that made them.

The proof runs the contract tests twice against its migrated sandbox database: once with one row
for each list to show and once with several (`items`), each request's SQL captured
(proof_runner/proof_calls.py). A list whose queries grow between the two runs queries once per
listed row: the repeated statements name the table, and the operation's model names the
relation (a foreign key the serializer follows without `select_related`, or rows under each item
without `prefetch_related`)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pglast

from apps.designs.engine.findings import Finding, fingerprint
from apps.designs.engine.model import SourceRef
from apps.designs.engine.queries import statement_tables

ANALYZER = "endpoints"
RULE = "endpoints.n-plus-one"
_LITERALS = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")
_IN_LISTS = re.compile(r"\bIN \(\?(?:, \?)*\)")  # `IN (?, ?)` and `IN (?)`: one shape, however many ids


@dataclass(frozen=True)
class OperationCalls:
    test: str
    lists: bool  # the operation lists rows: its queries per further row are measured
    outcome: str  # the contract test's outcome: passed, failed, xfailed, ...
    requested: bool  # the test made its request (it may have raised: a server error)
    status: int | None  # the response's status (None: no call made, or the call raised)
    queries_per_request: int | None  # with one row for a list to show
    queries: tuple[str, ...]  # the SQL of that request (bounded by the proof's limits)
    listed: int | None  # rows the list answered with in the first run
    listed_with_items: int | None  # and in the second (None: not run, or it did not succeed)
    queries_with_items: int | None  # the same request's count in the second run
    repeated: tuple[str, ...]  # statements of the second run repeated per row (one example each)

    @property
    def queries_per_item(self) -> float | None:
        """Queries each further listed row adds: measured only when both runs succeeded and the
        second listed more rows than the first (None otherwise; per_item_unmeasured says why)."""
        if self.queries_per_request is None or self.queries_with_items is None:
            return None
        if self.listed is None or self.listed_with_items is None or self.listed_with_items <= self.listed:
            return None
        extra = self.listed_with_items - self.listed
        return round((self.queries_with_items - self.queries_per_request) / extra, 2)

    @property
    def per_item_unmeasured(self) -> str:
        """Why a list's queries per row were not measured ("" when they were)."""
        if self.queries_per_item is not None:
            return ""
        if self.queries_per_request is None:
            return "the call did not succeed"
        if self.queries_with_items is None:
            return "the second run (more rows) did not call it successfully"
        if self.listed is None or self.listed_with_items is None:
            return "the response is not a list of rows"
        return f"the list showed {self.listed_with_items} row(s) both times: no copies of its rows could be made"


def operation_calls(test: str, calls: Mapping[str, Any] | None, *, lists: bool = True) -> OperationCalls | None:
    """The proof's record of one contract test (`calls` as endpoints_prove returns it), or None
    when the test was not run; `lists`: the operation lists rows (only then are the second run's
    counts compared)."""
    one = _test(calls, "one", test)
    if one is None:
        return None
    many = _test(calls, "many", test) if lists else None
    first = _last_call(one)
    second = _last_call(many) if many is not None else None
    ok_first = first is not None and _success(first.get("status"))
    ok_second = ok_first and second is not None and _success(second.get("status"))
    return OperationCalls(
        test=test,
        lists=lists,
        outcome=str(one.get("outcome", "")),
        requested=first is not None,
        status=first.get("status") if first is not None else None,
        queries_per_request=int(first["count"]) if ok_first and first is not None else None,
        queries=tuple(first.get("queries", ())) if first is not None else (),
        listed=first.get("listed") if ok_first and first is not None else None,
        listed_with_items=second.get("listed") if ok_second and second is not None else None,
        queries_with_items=int(second["count"]) if ok_second and second is not None else None,
        repeated=_repeated(first, second) if ok_second and first is not None and second is not None else (),
    )


def calls_fields(found: OperationCalls | None) -> dict[str, Any]:
    """The report's facts of one operation's call (empty when it was not called); for a list, its
    queries per further row, or why they were not measured."""
    if found is None:
        return {}
    fields: dict[str, Any] = {
        "called": {
            "test": found.test,
            "outcome": found.outcome,
            "status": found.status,
            "requested": found.requested,
        },
        "queries_per_request": found.queries_per_request,
        "queries": list(found.queries),
    }
    if found.lists:
        if found.queries_per_item is not None:
            fields["queries_per_item"] = found.queries_per_item
        else:
            fields["queries_per_item_unmeasured"] = found.per_item_unmeasured
    return fields


def n_plus_one_findings(
    operations: Sequence[Any], calls: Mapping[str, Any] | None, *, max_page_size: int = 100
) -> list[Finding]:
    """One finding per operation whose queries grow with the rows it lists. `operations` are the
    generator's OperationOutcome records (test, model, relations, source); `max_page_size`, the
    largest page the generated lists serve."""
    findings = []
    for outcome in operations:
        if not outcome.test or outcome.action != "list":
            continue
        found = operation_calls(outcome.test, calls)
        per_item = found.queries_per_item if found is not None else None
        if found is None or per_item is None or per_item <= 0:
            continue
        tables = _tables(found.repeated)
        causes = [_cause(outcome, table) for table in tables] or ["a query repeated per row"]
        key = f"{outcome.method} {outcome.path}"
        example = found.repeated[0] if found.repeated else ""
        findings.append(
            Finding(
                analyzer=ANALYZER,
                rule_id=RULE,
                severity="medium",
                title=f"{key}: {per_item:g} more queries for each listed row (N+1)",
                message=(
                    f"{key} ran {found.queries_per_request} queries listing {found.listed} row(s) and "
                    f"{found.queries_with_items} listing {found.listed_with_items}: {per_item:g} per further row, so "
                    f"a full page of {max_page_size} runs about "
                    f"{round(found.queries_per_request + (max_page_size - (found.listed or 0)) * per_item)}. Per row: "
                    + "; ".join(causes)
                    + (f". Repeated: {example}" if example else ".")
                ),
                fix=(
                    "Read the relation with the list's own query: `select_related` for a foreign key the "
                    "serializer follows, `prefetch_related` for the rows under each item, in the view's queryset"
                ),
                locations=(outcome.source, SourceRef(document="design/views.py", pointer=outcome.view)),
                fingerprint=fingerprint(ANALYZER, RULE, key),
                endpoints=(key,),
            )
        )
    return findings


def _test(calls: Mapping[str, Any] | None, run: str, test: str) -> Mapping[str, Any] | None:
    recorded = (calls or {}).get(run)
    if not isinstance(recorded, Mapping):
        return None
    entry = recorded.get("tests", {}).get(test)
    return entry if isinstance(entry, Mapping) else None


def _last_call(entry: Mapping[str, Any]) -> Mapping[str, Any] | None:
    calls = entry.get("calls") or []
    return calls[-1] if calls else None  # a contract test makes its operation's call last


def _success(status: Any) -> bool:
    return isinstance(status, int) and 200 <= status < 300


def _shape(sql: str) -> str:
    return _IN_LISTS.sub("IN (?)", _LITERALS.sub("?", sql))


def _repeated(first: Mapping[str, Any], second: Mapping[str, Any]) -> tuple[str, ...]:
    """One example of each statement shape the second run ran more often than the first."""
    before = Counter(_shape(q) for q in first.get("queries", ()))
    after = Counter(_shape(q) for q in second.get("queries", ()))
    examples: dict[str, str] = {}
    for sql in second.get("queries", ()):
        shape = _shape(sql)
        if after[shape] > before[shape] and shape not in examples:
            examples[shape] = sql
    return tuple(examples.values())


def _tables(statements: Sequence[str]) -> list[str]:
    """The tables the statements read, in order, each once (a statement pglast cannot parse is skipped)."""
    found: dict[str, None] = {}
    for sql in statements:
        try:
            tree = pglast.parse_sql(sql)
        except pglast.parser.ParseError:
            continue
        for statement in tree:
            found.update(dict.fromkeys(statement_tables(statement)))
    return list(found)


def _cause(outcome: Any, table: str) -> str:
    for field, target in outcome.relations:
        if target == table:
            return f"{outcome.model}.{field}, a foreign key to {table} the serializer reads (select_related({field!r}))"
    for source, field in outcome.reverse_relations:
        if source == table:
            return f"the {table} rows under each {outcome.model} (their {field}; prefetch_related)"
    return f"a query on {table}"
