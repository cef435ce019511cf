"""The migrations analyzer: the migration a design (or a change between two revisions) implies,
its forward and rollback SQL proven in the sandbox, and the zero-downtime review of each statement.

Input: the DesignModel, the base revision's (or None) and a way to open a sandbox session.
Output: findings and the `migrations` section of the report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import pglast
from django.db.migrations import operations
from django.db.migrations.migration import Migration
from django.db.migrations.state import ProjectState
from pglast import ast, enums
from pglast.parser import ParseError
from pglast.stream import RawStream

from apps.designs.engine.findings import Finding, fingerprint
from apps.designs.engine.model import DesignModel, Entity, Severity, SourceRef
from apps.migrations_preview.engine.estimate import Estimate, estimate_statements, total
from apps.migrations_preview.engine.operations import review_operations
from apps.migrations_preview.engine.review import StatementReview, review_sql, table_facts
from apps.migrations_preview.engine.safe import not_made_safe, safe_migration, safe_statements
from apps.migrations_preview.engine.schema_diff import schema_diff
from apps.migrations_preview.engine.sql import create_tables, django_connection, prove_migration
from apps.migrations_preview.engine.states import (
    Conversion,
    PreviewState,
    foreign_key_targets,
    migration_between_states,
    model_name,
    project_state,
)
from apps.migrations_preview.engine.writer import migration_source, names_django_cannot_write, with_verbatim_sql
from apps.sandbox.engine import SandboxSession

ANALYZER = "migrations"
_SEVERITY: dict[str, Severity] = {"high": "high", "medium": "medium"}
POSTGRES_LOCKS = "https://www.postgresql.org/docs/15/explicit-locking.html"


def _where(model: DesignModel, base: DesignModel | None, table: str | None, sql: str = "") -> tuple[SourceRef, ...]:
    """Where a reviewer looks for the statement's cause: the line of the column, constraint or
    index it adds or changes, in the design (or of what it drops, in the base revision); the
    table's line when the statement names nothing finer."""
    found = _element_source(model, base, table, sql) if sql else None
    if found is not None:
        return (found,)
    for design in (model, base):
        entity = design.entity(table) if design is not None and table else None
        if entity is not None:
            return (entity.source,)
    return ()


def _element_source(model: DesignModel, base: DesignModel | None, table: str | None, sql: str) -> SourceRef | None:
    """The SourceRef of the element a previewed statement adds, changes or drops (see `_where`)."""
    try:
        statements = pglast.parse_sql(sql)
    except ParseError:
        return None
    if len(statements) != 1:
        return None
    stmt = statements[0].stmt
    new = model.entity(table) if table else None
    old = base.entity(table) if base is not None and table else None
    if isinstance(stmt, ast.IndexStmt):
        columns = tuple(p.name for p in stmt.indexParams or () if p.name)
        return _index_source(new, stmt.idxname, columns)
    if isinstance(stmt, ast.DropStmt) and stmt.removeType == enums.ObjectType.OBJECT_INDEX and base is not None:
        names = {
            n.sval
            for item in stmt.objects or ()
            for n in (item if isinstance(item, tuple) else ())
            if isinstance(n, ast.String)
        }
        for entity in base.entities:
            for index in (*entity.indexes, *entity.uniques):
                if index.name in names:
                    return index.source
        return None
    if isinstance(stmt, ast.RenameStmt) and stmt.renameType == enums.ObjectType.OBJECT_COLUMN:
        column = new.column(stmt.newname or "") if new is not None else None
        return column.source if column is not None else None
    if not isinstance(stmt, ast.AlterTableStmt) or len(stmt.cmds or ()) != 1:
        return None
    cmd = stmt.cmds[0]
    T = enums.AlterTableType
    if cmd.subtype == T.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
        column = new.column(cmd.def_.colname or "") if new is not None else None
        return column.source if column is not None else None
    if cmd.subtype == T.AT_DropColumn:
        column = old.column(cmd.name or "") if old is not None else None
        return column.source if column is not None else None
    if cmd.subtype in (T.AT_AlterColumnType, T.AT_SetNotNull, T.AT_DropNotNull, T.AT_ColumnDefault):
        for entity in (new, old):
            column = entity.column(cmd.name or "") if entity is not None else None
            if column is not None:
                return column.source
        return None
    if cmd.subtype == T.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint) and new is not None:
        return _constraint_source(new, cmd.def_)
    if cmd.subtype == T.AT_DropConstraint and old is not None:
        return _named_source(old, cmd.name) or _generated_name_source(old, cmd.name or "")
    return None


def _generated_name_source(entity: Entity, name: str) -> SourceRef | None:
    """The foreign key or unique constraint behind a name Django generated for it
    (`<table>_<columns>_<hash>_fk_...`, `..._uniq`)."""
    for element in (*entity.foreign_keys, *entity.uniques):
        if name.startswith(f"{entity.name}_{'_'.join(element.columns)}_"):
            return element.source
    return None


def _index_source(entity: Entity | None, name: str | None, columns: tuple[str, ...]) -> SourceRef | None:
    if entity is None:
        return None
    elements = (*entity.indexes, *entity.uniques)
    for element in elements:
        if name is not None and element.name == name:
            return element.source
    for element in elements:
        if columns and element.columns == columns:
            return element.source
    if len(columns) == 1:  # Django's own index beside a unique or foreign key column
        column = entity.column(columns[0])
        return column.source if column is not None else None
    return None


def _named_source(entity: Entity, name: str | None) -> SourceRef | None:
    for element in (*entity.checks, *entity.uniques, *entity.foreign_keys, *entity.indexes):
        if name is not None and element.name == name:
            return element.source
    return None


def _constraint_source(entity: Entity, constraint: ast.Constraint) -> SourceRef | None:
    named = _named_source(entity, constraint.conname)
    if named is not None:
        return named
    C = enums.ConstrType
    if constraint.contype == C.CONSTR_FOREIGN:
        columns = tuple(n.sval for n in constraint.fk_attrs or ())
        return next((fk.source for fk in entity.foreign_keys if fk.columns == columns), None)
    if constraint.contype == C.CONSTR_UNIQUE:
        columns = tuple(n.sval for n in constraint.keys or ())
        return next((u.source for u in entity.uniques if u.columns == columns), None)
    if constraint.contype == C.CONSTR_PRIMARY:
        return entity.primary_key_source
    if constraint.contype == C.CONSTR_CHECK and constraint.raw_expr is not None:
        text = str(RawStream()(constraint.raw_expr))
        return next((c.source for c in entity.checks if c.expression == text), None)
    return None


def _header(
    model: DesignModel, base: DesignModel | None, reviews: list[StatementReview], estimates: list[Estimate]
) -> list[str]:
    """The comment a reviewer reads first: purpose, stories served, breaking changes, run time."""
    from apps.designs.engine.matching import match_endpoint

    tables = sorted({r.table for r in reviews if r.table})
    stories = []
    for story in model.stories:
        touched = {
            e
            for ref in story.endpoints
            if (endpoint := match_endpoint(ref, model.endpoints))
            for e in endpoint.entities
        }
        if touched & set(tables):
            stories.append(f"{story.id} ({story.title})")
    lines = [
        "# Purpose: the schema change the design implies"
        + (" since the base revision." if base is not None else ", from an empty database."),
        f"# Tables: {', '.join(tables) or 'none'}.",
        f"# Stories served: {', '.join(stories) or 'none cite the changed tables'}.",
    ]
    breaking = [r for r in reviews if r.breaking]
    lines.append(
        "# Breaking for API consumers and running code:"
        if breaking
        else "# Breaking for API consumers and running code: nothing found."
    )
    lines += [f"#   - {r.sql.rstrip(';')[:100]}: {r.breaking}." for r in breaking]
    lines.append(f"# Estimated run time on the declared volumes: {total(estimates)}.")
    return lines


def _safe_header(reviews: list[StatementReview]) -> list[str]:
    """The safe variant's header: it was reviewed like the migration, and what it could not make
    safe is named, never presented as safe."""
    left = not_made_safe(reviews)
    lines = [
        f"# Safe variant: its {len(reviews)} statements are reviewed like the migration's (lock, scan, rewrite, rows)."
    ]
    if not left:
        return [*lines, "# Not made safe: nothing; no statement is rated high."]
    lines.append(f"# NOT MADE SAFE ({len(left)}): no mechanical safe form; do these by hand as advised:")
    return lines + [f"#   - {item}" for item in left]


def _with_header(source: str, header: list[str]) -> str:
    first, _, rest = source.partition("\n")
    return "\n".join([first, *header, rest])


def _statement_dict(review: StatementReview, estimate: Estimate) -> dict[str, Any]:
    data = review.as_dict()
    data["estimate_seconds"] = estimate.seconds
    data["estimate_basis"] = estimate.basis
    return data


def _renames(migration: Migration, base: DesignModel | None) -> list[str]:
    """The renames the autodetector recognised, as `table.old -> new` or `old_table -> new_table`."""
    tables = {model_name(e.name).lower(): e.name for e in base.entities} if base is not None else {}
    found = []
    for operation in migration.operations:
        if isinstance(operation, operations.RenameField):
            table = tables.get(operation.model_name_lower, operation.model_name)
            found.append(f"{table}.{operation.old_name} -> {operation.new_name}")
        elif isinstance(operation, operations.RenameModel):
            found.append(f"{tables.get(operation.old_name_lower, operation.old_name)} -> {operation.new_name}")
    return found


def _estimates(
    base: DesignModel | None,
    reviews: list[StatementReview],
    sandbox: Callable[[], AbstractContextManager[SandboxSession]],
    sizes: tuple[int, ...],
    max_tables: int,
    base_state: ProjectState | None = None,
) -> list[Estimate]:
    """Each statement's estimate, measured in a fresh sandbox schema holding the base tables.
    `base_state`, the base revision's converted state if the caller has it, is only read."""
    base_tables = {e.name: e.rows for e in base.entities} if base is not None else {}
    if base is not None and base_state is None:
        base_state = project_state(base).state

    @contextmanager
    def sandbox_with_base() -> Iterator[SandboxSession]:
        with sandbox() as box, django_connection(box) as connection:
            if base_state is not None:
                create_tables(connection, base_state)
            yield box

    return estimate_statements(
        reviews,
        base_tables=base_tables,
        references=foreign_key_targets(base_state) if base_state is not None else {},
        sandbox_with_base=sandbox_with_base,
        sizes=sizes,
        max_tables=max_tables,
    )


@dataclass(frozen=True, slots=True)
class _Prepared:
    """The part of the section and findings that does not wait for the rollback's proof."""

    reviews: list[StatementReview]
    estimates: list[Estimate]
    unwritable: list[str]
    source: str  # the migration file, before its header
    safe: Migration | None
    safe_source: str
    safe_reviews: list[StatementReview]  # the safe variant's statements, reviewed like the migration's
    diff: str
    notes: list[str]


def _diff_and_notes(
    model: DesignModel, base: DesignModel | None, conversion: Conversion, base_conversion: Conversion | None
) -> tuple[str, list[str]]:
    """The schema diff and what the conversions to Django's states could not represent."""
    diff = schema_diff(base, model, base_label="base", new_label="design") if base is not None else ""
    notes = sorted(set(conversion.notes) | set(base_conversion.notes if base_conversion else ()))
    return diff, notes


def analyze_migrations(
    model: DesignModel,
    base: DesignModel | None,
    sandbox: Callable[[], AbstractContextManager[SandboxSession]],
    *,
    lock_timeout_ms: int,
    statement_timeout_ms: int,
    stamp: str = "",
    calibration_rows: tuple[int, ...] = (10_000, 40_000),
    calibration_max_tables: int = 40,
    detect_renames: bool = True,
) -> tuple[list[Finding], dict[str, Any]]:
    """See the module docstring. Without changes, the section says so and there are no findings."""
    prepared: list[_Prepared] = []
    # Each revision converted once. These states are only read (by the autodetector, for the
    # base tables to create and for the calibration's); a migration's walk starts from a state
    # converted apart (see migration_between_states).
    conversion = project_state(model)
    base_conversion = project_state(base) if base is not None else None

    def prepare(migration: Migration, forward: tuple[str, ...], rollback: tuple[str, ...]) -> None:
        """All that does not wait for the proof's verdict, done while the sandbox runs the proof."""
        reviews = review_sql(list(forward), tables=table_facts(base) if base is not None else {})
        estimates = _estimates(
            base,
            reviews,
            sandbox,
            calibration_rows,
            calibration_max_tables,
            base_state=base_conversion.state if base_conversion is not None else None,
        )
        unwritable = names_django_cannot_write(base, model)
        written = with_verbatim_sql(migration, forward, rollback) if unwritable else migration
        before = project_state(base).state if base is not None else PreviewState()  # walked by the safe variant
        safe = (
            None
            if unwritable
            else safe_migration(
                migration, before=before, lock_timeout_ms=lock_timeout_ms, statement_timeout_ms=statement_timeout_ms
            )
        )
        diff, notes = _diff_and_notes(model, base, conversion, base_conversion)
        safe_reviews = (
            review_sql(safe_statements(safe, migration, forward), tables=table_facts(base) if base is not None else {})
            if safe is not None
            else []
        )
        prepared.append(
            _Prepared(
                reviews=reviews,
                estimates=estimates,
                unwritable=unwritable,
                source=migration_source(written),
                safe=safe,
                safe_source=_with_header(migration_source(safe), _safe_header(safe_reviews))
                if safe is not None
                else "",
                safe_reviews=safe_reviews,
                diff=diff,
                notes=notes,
            )
        )

    result = None
    # A design without tables, compared with nothing or with another without tables, has nothing
    # to migrate: no sandbox is opened for it (a bare OpenAPI document is the common case).
    if model.entities or (base is not None and base.entities):
        with ExitStack() as session, ThreadPoolExecutor(max_workers=1) as opening:
            # The sandbox makes the session's role and database while the autodetector works.
            box = opening.submit(session.enter_context, sandbox())
            migration = migration_between_states(
                base_conversion.state if base_conversion is not None else PreviewState(),
                conversion.state,
                detect_renames=detect_renames,
                name=f"{stamp}_design" if stamp else "preview",
            )
            opened = box.result()
            if migration is not None:
                result = prove_migration(
                    opened,
                    migration,
                    base=base,
                    base_state=base_conversion.state if base_conversion is not None else None,
                    meanwhile=prepare,
                )
    if result is None:
        diff, notes = _diff_and_notes(model, base, conversion, base_conversion)
        return [], {
            "notes": notes,
            "renames": {"mode": "detect" if detect_renames else "drop_add", "detected": []},
            "schema_diff": diff,
            "name": None,
            "source": "",
            "forward_sql": "",
            "rollback_sql": "",
            "rollback_proven": {"proven": True, "reason": "nothing changes"},
            "statements": [],
        }
    ready = prepared[0]
    reviews, estimates, diff, notes = ready.reviews, ready.estimates, ready.diff, ready.notes
    findings: list[Finding] = []
    for review, estimate in zip(reviews, estimates, strict=True):
        key = f"{review.table}|{review.sql}"
        if review.risk in _SEVERITY:
            findings.append(
                Finding(
                    analyzer=ANALYZER,
                    rule_id="mig.blocking-statement" if review.blocks != "none" else "mig.heavy-statement",
                    severity=_SEVERITY[review.risk],
                    title=f"{review.sql[:90]}{'…' if len(review.sql) > 90 else ''}",
                    message=f"{review.reason}. Lock: {review.lock_level or 'none'} (blocks {review.blocks}); rows: {review.rows if review.rows is not None else 'no volume declared'}. Time: {estimate.basis}.",
                    fix=review.safe_alternative,
                    locations=_where(model, base, review.table, review.sql),
                    fingerprint=fingerprint(ANALYZER, "statement", key),
                    references=(POSTGRES_LOCKS,),
                )
            )
        if review.breaking:
            findings.append(
                Finding(
                    analyzer=ANALYZER,
                    rule_id="mig.breaking-change",
                    severity="medium",
                    title=f"Breaking change: {review.sql[:80]}",
                    message=f"{review.breaking}.",
                    fix=review.safe_alternative,
                    locations=_where(model, base, review.table, review.sql),
                    fingerprint=fingerprint(ANALYZER, "breaking", key),
                )
            )
    if not result.rollback_proven:
        findings.append(
            Finding(
                analyzer=ANALYZER,
                rule_id="mig.rollback-not-proven",
                severity="high" if "does not restore" in result.rollback_reason else "medium",
                title="The rollback does not fully undo the migration",
                message=result.rollback_reason,
                fix="Keep the data until the release is safe (expand/contract), or accept that a rollback restores the column empty.",
                locations=(),
                fingerprint=fingerprint(ANALYZER, "rollback", result.rollback_reason),
            )
        )
    unwritable = ready.unwritable
    header = _header(model, base, reviews, estimates)
    if unwritable:
        notes.append(
            f"Django's schema editor cannot write {', '.join(unwritable[:5])} (its quote_name does not double a "
            "double quote, and its formatting takes % as a placeholder): the migration file runs the previewed "
            "SQL through RunSQL, and no safe variant is offered"
        )
        header.append("# Database side: the previewed SQL, run as written (Django cannot quote some of the names).")
    section = {
        "notes": notes,
        "renames": {"mode": "detect" if detect_renames else "drop_add", "detected": _renames(result.migration, base)},
        "schema_diff": diff,
        "name": result.migration.name,
        "source": _with_header(ready.source, header),
        "forward_sql": "\n".join(result.forward),
        "rollback_sql": "\n".join(result.rollback),
        "rollback_proven": {"proven": result.rollback_proven, "reason": result.rollback_reason},
        "statements": [_statement_dict(r, e) for r, e in zip(reviews, estimates, strict=True)],
        "safe_migration": None,
    }
    safe = ready.safe
    if safe is not None:
        section["safe_migration"] = {
            "name": safe.name,
            "source": ready.safe_source,
            "statements": [r.as_dict() for r in ready.safe_reviews],
            "not_safe": not_made_safe(ready.safe_reviews),
        }
    for migration in (result.migration, safe):
        for issue in review_operations(migration) if migration is not None else ():
            findings.append(
                Finding(
                    analyzer=ANALYZER,
                    rule_id=issue.rule_id,
                    severity="medium",
                    title=f"{issue.migration}: operation {issue.index + 1} cannot be reversed",
                    message=issue.message,
                    fix=issue.fix,
                    locations=(),
                    fingerprint=fingerprint(
                        ANALYZER, issue.rule_id, f"{'safe' if migration is safe else 'design'}|{issue.index}"
                    ),
                )
            )
    return findings, section
