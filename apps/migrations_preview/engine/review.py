"""The zero-downtime review of migration SQL: for each statement, the lock PostgreSQL takes and
what it blocks, whether it rewrites or scans the table (and how many declared rows that is),
the risk, and the safe way to make the same change.

Pure: SQL text and the base revision's table facts in, plain data out. Statements are read with
PostgreSQL's own grammar (pglast). Facts relied on (PostgreSQL 15 documentation, "Explicit
Locking" and "ALTER TABLE"): ACCESS EXCLUSIVE blocks reads and writes; SHARE and SHARE ROW
EXCLUSIVE block writes; SHARE UPDATE EXCLUSIVE blocks neither. A constant or stable default on
a new column has not rewritten the table since PostgreSQL 11; widening a varchar or turning it
into text is metadata-only; SET NOT NULL skips its scan when a validated CHECK (col IS NOT NULL)
exists (PostgreSQL 12).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import pglast
from pglast import ast, enums
from pglast.parser import ParseError
from pglast.stream import RawStream

ACCESS_EXCLUSIVE = "ACCESS EXCLUSIVE"
SHARE = "SHARE"
SHARE_ROW_EXCLUSIVE = "SHARE ROW EXCLUSIVE"
SHARE_UPDATE_EXCLUSIVE = "SHARE UPDATE EXCLUSIVE"
ROW_EXCLUSIVE = "ROW EXCLUSIVE"
BLOCKS = {
    ACCESS_EXCLUSIVE: "reads",  # and writes
    "EXCLUSIVE": "writes",
    SHARE_ROW_EXCLUSIVE: "writes",
    SHARE: "writes",
    SHARE_UPDATE_EXCLUSIVE: "none",
    ROW_EXCLUSIVE: "none",
    "": "none",
}
LARGE_TABLE_ROWS = 1_000_000
_VARCHAR = re.compile(r"^varchar\((\d+)\)$")


@dataclass(frozen=True, slots=True)
class TableFacts:
    rows: int | None
    columns: Mapping[str, str] = field(default_factory=dict)  # column -> canonical type
    not_null_checks: frozenset[str] = frozenset()  # columns with a validated CHECK (col IS NOT NULL)


@dataclass
class StatementReview:
    sql: str
    table: str | None
    lock_level: str
    blocks: str  # reads (and writes), writes, none
    rewrites_table: bool
    scans_table: bool
    rows: int | None
    risk: str  # none, low, medium, high
    reason: str
    safe_alternative: str = ""
    breaking: str = ""  # what API or application code breaks, for expand/contract

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _deparse(node: Any) -> str:
    return str(RawStream()(node))


def _binary_coercible(old: str | None, new: str) -> bool:
    if old is None:
        return False
    if old == new:
        return True
    old_match, new_match = _VARCHAR.match(old), _VARCHAR.match(new)
    if old_match and new_match:
        return int(new_match.group(1)) >= int(old_match.group(1))
    return (old.startswith("varchar") or old == "text") and new == "text"


def _canonical(type_name: ast.TypeName) -> str:
    from apps.designs.engine.ddl import canonical_type

    return canonical_type(type_name)[0]


def _is_serial(type_name: ast.TypeName) -> bool:
    from apps.designs.engine.ddl import canonical_type

    return canonical_type(type_name)[1]


def _risk(*, blocking: bool, heavy: bool, rows: int | None) -> str:
    if not blocking and not heavy:
        return "none"
    if not heavy:
        return "low"  # a brief lock; safe with a lock_timeout
    if rows is None:
        return "medium"
    return "high" if rows >= LARGE_TABLE_ROWS else "medium" if rows >= 100_000 else "low"


def review_sql(statements: list[str], *, tables: Mapping[str, TableFacts]) -> list[StatementReview]:
    """One review per statement (SQL comments skipped). Unparseable text is reported, not raised."""
    reviews: list[StatementReview] = []
    tables = dict(tables)  # tables created on the way are empty when later statements touch them
    created: set[str] = set()
    pending: dict[tuple[str, str], str] = {}  # (table, check) -> column, for CHECK (col IS NOT NULL) NOT VALID
    for text in statements:
        body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--")).strip()
        if not body:
            continue
        try:
            parsed = pglast.parse_sql(body)
        except ParseError as exc:
            reviews.append(
                StatementReview(body, None, "", "none", False, False, None, "medium", f"not understood: {exc}")
            )
            continue
        for raw in parsed:
            sql = (
                body[raw.stmt_location : raw.stmt_location + raw.stmt_len].strip()
                if raw.stmt_len
                else body[raw.stmt_location :].strip()
            )
            if isinstance(raw.stmt, ast.CreateStmt):
                tables[raw.stmt.relation.relname] = TableFacts(rows=0)
                created.add(raw.stmt.relation.relname)
            elif isinstance(raw.stmt, ast.AlterTableStmt):
                _follow_not_null_checks(raw.stmt, tables, pending)
            for review in _review(raw.stmt, sql.rstrip(";") + ";", tables):
                if review.table in created and not isinstance(raw.stmt, ast.CreateStmt):
                    # Nothing reads or writes a table before the migration that creates it commits.
                    review.safe_alternative = ""
                    review.risk = "none"
                    review.reason += "; the table is created by this migration, so nobody waits"
                reviews.append(review)
    return reviews


def _follow_not_null_checks(
    stmt: ast.AlterTableStmt, tables: dict[str, TableFacts], pending: dict[tuple[str, str], str]
) -> None:
    """A `CHECK (col IS NOT NULL)` added, then validated, by earlier statements spares a later
    SET NOT NULL its scan: remember it in the table's facts once it is validated."""
    table = stmt.relation.relname
    for cmd in stmt.cmds or ():
        definition = cmd.def_
        if (
            cmd.subtype == enums.AlterTableType.AT_AddConstraint
            and isinstance(definition, ast.Constraint)
            and definition.contype == enums.ConstrType.CONSTR_CHECK
            and isinstance(definition.raw_expr, ast.NullTest)
            and definition.raw_expr.nulltesttype == enums.NullTestType.IS_NOT_NULL
            and isinstance(definition.raw_expr.arg, ast.ColumnRef)
            and definition.conname
        ):
            column = definition.raw_expr.arg.fields[-1]
            if isinstance(column, ast.String):
                pending[(table, definition.conname)] = column.sval
                if not definition.skip_validation:
                    pending.pop((table, definition.conname))
                    _with_not_null(tables, table, column.sval)
        elif cmd.subtype == enums.AlterTableType.AT_ValidateConstraint and (table, cmd.name or "") in pending:
            _with_not_null(tables, table, pending.pop((table, cmd.name or "")))


def _with_not_null(tables: dict[str, TableFacts], table: str, column: str) -> None:
    facts = tables.get(table, TableFacts(None))
    tables[table] = replace(facts, not_null_checks=facts.not_null_checks | {column})


def _verdict(
    sql: str,
    table: str | None,
    rows: int | None,
    lock: str,
    reason: str,
    *,
    rewrites: bool = False,
    scans: bool = False,
    risk: str | None = None,
    alternative: str = "",
    breaking: str = "",
) -> StatementReview:
    """One review; the risk follows from the lock, the work and the rows unless given."""
    blocks = BLOCKS[lock]
    if risk is None:
        risk = _risk(blocking=blocks != "none", heavy=rewrites or scans, rows=rows)
    return StatementReview(sql, table, lock, blocks, rewrites, scans, rows, risk, reason, alternative, breaking)


_METADATA = "metadata only; the lock is brief"
_EXPAND_CONTRACT = "Expand/contract: add the new column, write both, backfill, switch reads, then drop the old one (SeparateDatabaseAndState keeps Django's state in step)."


def _review(stmt: Any, sql: str, tables: Mapping[str, TableFacts]) -> list[StatementReview]:
    def rows_of(name: str | None) -> int | None:
        return tables.get(name or "", TableFacts(None)).rows

    if isinstance(stmt, ast.CreateStmt):
        return [_verdict(sql, stmt.relation.relname, 0, "", "a new table: nothing else is locked", risk="none")]
    if isinstance(stmt, ast.IndexStmt):
        table = stmt.relation.relname
        if stmt.concurrent:
            return [
                _verdict(
                    sql,
                    table,
                    rows_of(table),
                    SHARE_UPDATE_EXCLUSIVE,
                    "built concurrently: reads and writes continue (run outside a transaction)",
                    scans=True,
                    risk="low",
                )
            ]
        concurrent = sql.replace("CREATE INDEX", "CREATE INDEX CONCURRENTLY", 1).replace(
            "CREATE UNIQUE INDEX", "CREATE UNIQUE INDEX CONCURRENTLY", 1
        )
        return [
            _verdict(
                sql,
                table,
                rows_of(table),
                SHARE,
                "CREATE INDEX holds a SHARE lock while it reads the whole table: writes wait",
                scans=True,
                alternative=concurrent + " -- in a migration with atomic = False",
            )
        ]
    if isinstance(stmt, ast.DropStmt) and stmt.removeType == enums.ObjectType.OBJECT_INDEX:
        if stmt.concurrent:
            return [
                _verdict(
                    sql,
                    None,
                    None,
                    SHARE_UPDATE_EXCLUSIVE,
                    "dropped concurrently: reads and writes continue",
                    risk="none",
                )
            ]
        return [
            _verdict(
                sql,
                None,
                None,
                ACCESS_EXCLUSIVE,
                "a brief ACCESS EXCLUSIVE lock on the table, which queues behind long queries",
                risk="low",
                alternative=sql.replace("DROP INDEX", "DROP INDEX CONCURRENTLY", 1)
                + " -- in a migration with atomic = False",
            )
        ]
    if isinstance(stmt, ast.VacuumStmt) and any(getattr(o, "defname", "") == "full" for o in stmt.options or ()):
        table = stmt.rels[0].relation.relname if stmt.rels else None
        return [
            _verdict(
                sql,
                table,
                rows_of(table),
                ACCESS_EXCLUSIVE,
                "VACUUM FULL rewrites the table under ACCESS EXCLUSIVE",
                rewrites=True,
                scans=True,
                alternative="Use pg_repack (or plain VACUUM, which takes no blocking lock) to reclaim space online.",
            )
        ]
    if isinstance(stmt, ast.TruncateStmt):
        table = stmt.relations[0].relname if stmt.relations else None
        cascade = stmt.behavior == enums.DropBehavior.DROP_CASCADE
        return [
            _verdict(
                sql,
                table,
                rows_of(table),
                ACCESS_EXCLUSIVE,
                "TRUNCATE deletes every row"
                + (", and CASCADE empties every table that references it too" if cascade else ""),
                risk="high",
                alternative="Delete in batches what must go, naming each table; never CASCADE in a migration.",
                breaking="the data is gone and a rollback cannot bring it back",
            )
        ]
    if isinstance(stmt, ast.RenameStmt) and stmt.renameType in (
        enums.ObjectType.OBJECT_TABLE,
        enums.ObjectType.OBJECT_COLUMN,
    ):
        table = stmt.relation.relname
        column = stmt.renameType == enums.ObjectType.OBJECT_COLUMN
        return [
            _verdict(
                sql,
                table,
                rows_of(table),
                ACCESS_EXCLUSIVE,
                "a metadata change under a brief ACCESS EXCLUSIVE lock",
                risk="low",
                alternative=_EXPAND_CONTRACT
                if column
                else "Keep the old name readable during the switch (a view under the old name), rename in code first.",
                breaking=f"code and API clients still using {stmt.subname if column else table} fail as soon as it runs",
            )
        ]
    if isinstance(stmt, ast.DropStmt) and stmt.removeType == enums.ObjectType.OBJECT_TABLE:
        return [
            _verdict(
                sql,
                None,
                None,
                ACCESS_EXCLUSIVE,
                "dropping a table loses its data",
                risk="medium",
                alternative="Expand/contract: stop reading and writing it in code, keep it for a release (renamed if you like), then drop it.",
                breaking="anything still reading the table fails",
            )
        ]
    if isinstance(stmt, ast.AlterTableStmt):
        return [_alter(cmd, sql, stmt.relation.relname, tables) for cmd in stmt.cmds or ()]
    if isinstance(stmt, ast.UpdateStmt):
        table = stmt.relation.relname
        if stmt.whereClause is not None:
            return [
                _verdict(
                    sql,
                    table,
                    rows_of(table),
                    ROW_EXCLUSIVE,
                    "an UPDATE limited by its WHERE clause: keep each batch small",
                    risk="low",
                )
            ]
        return [
            _verdict(
                sql,
                table,
                rows_of(table),
                ROW_EXCLUSIVE,
                "an unbatched UPDATE locks every row it touches until it commits and bloats the table",
                scans=True,
                risk=_risk(blocking=False, heavy=True, rows=rows_of(table)),
                alternative="Backfill in batches of a few thousand rows, each in its own transaction.",
            )
        ]
    if isinstance(stmt, ast.ConstraintsSetStmt):
        return [_verdict(sql, None, None, "", "session setting", risk="none")]
    return [_verdict(sql, None, None, "", f"{type(stmt).__name__} is not reviewed in detail", risk="low")]


def _add_column(column: ast.ColumnDef, sql: str, table: str, rows: int | None) -> StatementReview:
    constraints = column.constraints or ()
    kinds = {c.contype for c in constraints}
    C = enums.ConstrType
    default = next((c for c in constraints if c.contype == C.CONSTR_DEFAULT), None)
    unique = bool(kinds & {C.CONSTR_UNIQUE, C.CONSTR_PRIMARY})
    identity = C.CONSTR_IDENTITY in kinds or _is_serial(column.typeName)
    volatile = default is not None and re.search(
        r"random\(|gen_random_uuid|clock_timestamp|nextval", _deparse(default.raw_expr), re.IGNORECASE
    )
    if C.CONSTR_NOTNULL in kinds and default is None:
        return _verdict(
            sql,
            table,
            rows,
            ACCESS_EXCLUSIVE,
            "a NOT NULL column without a default cannot be added to a table that has rows: the statement fails",
            risk="high" if rows != 0 else "low",
            alternative="Add it nullable, backfill in batches, then add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it, and SET NOT NULL (no scan since PostgreSQL 12)."
            + (
                " For its uniqueness: CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... UNIQUE USING INDEX."
                if unique
                else ""
            ),
        )
    if identity or volatile:
        return _verdict(
            sql,
            table,
            rows,
            ACCESS_EXCLUSIVE,
            "a serial/identity or volatile default fills every row: the table is rewritten under ACCESS EXCLUSIVE",
            rewrites=True,
            scans=True,
            alternative="Add the column without the default, backfill in batches, then set the default.",
        )
    if unique:
        return _verdict(
            sql,
            table,
            rows,
            ACCESS_EXCLUSIVE,
            "the UNIQUE constraint builds its index while holding ACCESS EXCLUSIVE",
            scans=True,
            alternative="Add the column without UNIQUE; CREATE UNIQUE INDEX CONCURRENTLY; then ALTER TABLE ... ADD CONSTRAINT ... UNIQUE USING INDEX.",
        )
    if C.CONSTR_FOREIGN in kinds:
        return _verdict(
            sql,
            table,
            rows,
            ACCESS_EXCLUSIVE,
            "ADD COLUMN holds ACCESS EXCLUSIVE on the table while the new foreign key is checked against every row (and SHARE ROW EXCLUSIVE on the referenced table, whose writes wait)",
            scans=True,
            risk=_risk(blocking=True, heavy=rows is None or rows > 0, rows=rows),
            alternative="Add the column, then ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT (which lets writes through).",
        )
    return _verdict(
        sql,
        table,
        rows,
        ACCESS_EXCLUSIVE,
        "metadata only (a constant default has not rewritten the table since PostgreSQL 11); the lock is brief but queues behind long queries",
        risk="low",
        alternative="Run with SET lock_timeout = '2s' and retry.",
    )


def _add_constraint(constraint: ast.Constraint, sql: str, table: str, rows: int | None) -> StatementReview:
    C = enums.ConstrType
    if constraint.skip_validation:
        lock = SHARE_ROW_EXCLUSIVE if constraint.contype == C.CONSTR_FOREIGN else ACCESS_EXCLUSIVE
        return _verdict(sql, table, rows, lock, "NOT VALID: existing rows are not checked now", risk="low")
    not_valid_then_validate = sql.rstrip(";") + " NOT VALID; then ALTER TABLE ... VALIDATE CONSTRAINT ...;"
    if constraint.contype == C.CONSTR_FOREIGN:
        return _verdict(
            sql,
            table,
            rows,
            SHARE_ROW_EXCLUSIVE,
            "the foreign key is checked against every row while writes wait",
            scans=True,
            alternative=not_valid_then_validate,
        )
    if constraint.contype == C.CONSTR_CHECK:
        return _verdict(
            sql,
            table,
            rows,
            ACCESS_EXCLUSIVE,
            "the check is evaluated on every row under ACCESS EXCLUSIVE",
            scans=True,
            alternative=not_valid_then_validate,
        )
    if constraint.contype in (C.CONSTR_UNIQUE, C.CONSTR_PRIMARY):
        if constraint.indexname:
            return _verdict(sql, table, rows, ACCESS_EXCLUSIVE, "adopts an existing index: metadata only", risk="low")
        return _verdict(
            sql,
            table,
            rows,
            ACCESS_EXCLUSIVE,
            "the constraint builds its index under ACCESS EXCLUSIVE",
            scans=True,
            alternative="CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... UNIQUE USING INDEX (NOT VALID does not exist for UNIQUE).",
        )
    return _verdict(
        sql, table, rows, ACCESS_EXCLUSIVE, "constraint reviewed conservatively: ACCESS EXCLUSIVE assumed", risk="low"
    )


def _alter(cmd: ast.AlterTableCmd, sql: str, table: str, tables: Mapping[str, TableFacts]) -> StatementReview:
    facts = tables.get(table, TableFacts(None))
    rows = facts.rows
    kind = cmd.subtype
    T = enums.AlterTableType
    if kind == T.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
        return _add_column(cmd.def_, sql, table, rows)
    if kind == T.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
        return _add_constraint(cmd.def_, sql, table, rows)
    if kind == T.AT_DropColumn:
        return _verdict(
            sql,
            table,
            rows,
            ACCESS_EXCLUSIVE,
            "metadata only; the data is gone",
            risk="low",
            alternative="Expand/contract: stop reading and writing the column in code first (SeparateDatabaseAndState removes it from Django's state), drop it in a later release.",
            breaking=f"code and API clients still using {cmd.name} fail; the values cannot be restored by a rollback",
        )
    if kind == T.AT_AlterColumnType and isinstance(cmd.def_, ast.ColumnDef):
        new = _canonical(cmd.def_.typeName)
        old = facts.columns.get(cmd.name or "")
        if _binary_coercible(old, new):
            return _verdict(sql, table, rows, ACCESS_EXCLUSIVE, f"{old} to {new} is metadata-only", risk="low")
        return _verdict(
            sql,
            table,
            rows,
            ACCESS_EXCLUSIVE,
            f"{old or 'the old type'} to {new} rewrites the whole table under ACCESS EXCLUSIVE",
            rewrites=True,
            scans=True,
            alternative="Add a new column of the new type, write both, backfill in batches, switch reads, drop the old column (expand/contract).",
        )
    if kind == T.AT_SetNotNull:
        if (cmd.name or "") in facts.not_null_checks:
            return _verdict(
                sql,
                table,
                rows,
                ACCESS_EXCLUSIVE,
                "a validated CHECK (col IS NOT NULL) lets PostgreSQL skip the scan",
                risk="low",
            )
        check = f"{table}_{cmd.name}_not_null"
        return _verdict(
            sql,
            table,
            rows,
            ACCESS_EXCLUSIVE,
            "SET NOT NULL reads every row while holding ACCESS EXCLUSIVE",
            scans=True,
            alternative=f"ALTER TABLE {table} ADD CONSTRAINT {check} CHECK ({cmd.name} IS NOT NULL) NOT VALID; ALTER TABLE {table} VALIDATE CONSTRAINT {check}; then SET NOT NULL (no scan since PostgreSQL 12).",
        )
    if kind in (T.AT_DropNotNull, T.AT_ColumnDefault, T.AT_DropConstraint):
        # Metadata only, but each loosens a promise that running code may rely on.
        breaking = {
            T.AT_DropNotNull: f"code that assumes {cmd.name} always has a value may now read NULL",
            T.AT_DropConstraint: f"rows the constraint {cmd.name} kept out can now come in",
        }.get(kind, "")
        if kind == T.AT_ColumnDefault and cmd.def_ is None:
            breaking = f"inserts that leave out {cmd.name} no longer get the default (and fail if it is NOT NULL)"
        return _verdict(sql, table, rows, ACCESS_EXCLUSIVE, _METADATA, risk="low", breaking=breaking)
    if kind == T.AT_ValidateConstraint:
        return _verdict(
            sql,
            table,
            rows,
            SHARE_UPDATE_EXCLUSIVE,
            "validation scans the table but lets reads and writes through",
            scans=True,
            risk="low",
        )
    return _verdict(
        sql,
        table,
        rows,
        ACCESS_EXCLUSIVE,
        f"{kind.name} is reviewed conservatively: ACCESS EXCLUSIVE assumed",
        risk="low",
    )


def table_facts(model: Any) -> dict[str, TableFacts]:
    """Facts about the base revision's tables, from a DesignModel."""
    facts = {}
    for entity in model.entities:
        checks = frozenset(
            m.group(1)
            for c in entity.checks
            if (m := re.fullmatch(r"\(?\s*(\w+)\s+IS\s+NOT\s+NULL\s*\)?", c.expression, re.IGNORECASE))
        )
        facts[entity.name] = TableFacts(
            rows=entity.rows, columns={c.name: c.type for c in entity.columns}, not_null_checks=checks
        )
    return facts
