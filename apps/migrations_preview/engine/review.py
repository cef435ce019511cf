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
from dataclasses import asdict, dataclass, field
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
            reviews.extend(_review(raw.stmt, sql.rstrip(";") + ";", tables))
    return reviews


def _review(stmt: Any, sql: str, tables: Mapping[str, TableFacts]) -> list[StatementReview]:
    if isinstance(stmt, ast.CreateStmt):
        return [
            StatementReview(
                sql, stmt.relation.relname, "", "none", False, False, 0, "none", "a new table: nothing else is locked"
            )
        ]
    if isinstance(stmt, ast.IndexStmt):
        table = stmt.relation.relname
        rows = tables.get(table, TableFacts(None)).rows
        if stmt.concurrent:
            return [
                StatementReview(
                    sql,
                    table,
                    SHARE_UPDATE_EXCLUSIVE,
                    "none",
                    False,
                    True,
                    rows,
                    "low",
                    "built concurrently: reads and writes continue (run outside a transaction)",
                )
            ]
        return [
            StatementReview(
                sql,
                table,
                SHARE,
                "writes",
                False,
                True,
                rows,
                _risk(blocking=True, heavy=True, rows=rows),
                "CREATE INDEX holds a SHARE lock while it reads the whole table: writes wait",
                safe_alternative=sql.replace("CREATE INDEX", "CREATE INDEX CONCURRENTLY", 1).replace(
                    "CREATE UNIQUE INDEX", "CREATE UNIQUE INDEX CONCURRENTLY", 1
                )
                + " -- in a migration with atomic = False",
            )
        ]
    if isinstance(stmt, ast.RenameStmt) and stmt.renameType == enums.ObjectType.OBJECT_TABLE:
        table = stmt.relation.relname
        return [
            StatementReview(
                sql,
                table,
                ACCESS_EXCLUSIVE,
                "reads",
                False,
                False,
                tables.get(table, TableFacts(None)).rows,
                "low",
                "a metadata change under a brief ACCESS EXCLUSIVE lock",
                safe_alternative="Keep the old name readable during the switch (a view under the old name), rename in code first.",
                breaking=f"code and API clients still using {table} fail as soon as it runs",
            )
        ]
    if isinstance(stmt, ast.DropStmt) and stmt.removeType == enums.ObjectType.OBJECT_INDEX:
        if stmt.concurrent:
            return [
                StatementReview(
                    sql,
                    None,
                    SHARE_UPDATE_EXCLUSIVE,
                    "none",
                    False,
                    False,
                    None,
                    "none",
                    "dropped concurrently: reads and writes continue",
                )
            ]
        return [
            StatementReview(
                sql,
                None,
                ACCESS_EXCLUSIVE,
                "reads",
                False,
                False,
                None,
                "low",
                "a brief ACCESS EXCLUSIVE lock on the table, which queues behind long queries",
                safe_alternative=sql.replace("DROP INDEX", "DROP INDEX CONCURRENTLY", 1)
                + " -- in a migration with atomic = False",
            )
        ]
    if isinstance(stmt, ast.VacuumStmt) and any(getattr(o, "defname", "") == "full" for o in stmt.options or ()):
        table = stmt.rels[0].relation.relname if stmt.rels else None
        rows = tables.get(table or "", TableFacts(None)).rows
        return [
            StatementReview(
                sql,
                table,
                ACCESS_EXCLUSIVE,
                "reads",
                True,
                True,
                rows,
                _risk(blocking=True, heavy=True, rows=rows),
                "VACUUM FULL rewrites the table under ACCESS EXCLUSIVE",
                safe_alternative="Use pg_repack (or plain VACUUM, which takes no blocking lock) to reclaim space online.",
            )
        ]
    if isinstance(stmt, ast.TruncateStmt):
        table = stmt.relations[0].relname if stmt.relations else None
        cascade = stmt.behavior == enums.DropBehavior.DROP_CASCADE
        return [
            StatementReview(
                sql,
                table,
                ACCESS_EXCLUSIVE,
                "reads",
                False,
                False,
                tables.get(table or "", TableFacts(None)).rows,
                "high",
                "TRUNCATE deletes every row"
                + (", and CASCADE empties every table that references it too" if cascade else ""),
                safe_alternative="Delete in batches what must go, naming each table; never CASCADE in a migration.",
                breaking="the data is gone and a rollback cannot bring it back",
            )
        ]
    if isinstance(stmt, ast.RenameStmt) and stmt.renameType == enums.ObjectType.OBJECT_COLUMN:
        table = stmt.relation.relname
        return [
            StatementReview(
                sql,
                table,
                ACCESS_EXCLUSIVE,
                "reads",
                False,
                False,
                tables.get(table, TableFacts(None)).rows,
                "low",
                "a metadata change under a brief ACCESS EXCLUSIVE lock",
                safe_alternative="Expand/contract: add the new column, write both, backfill, switch reads, then drop the old one (SeparateDatabaseAndState keeps Django's state in step).",
                breaking=f"code and API clients still using {stmt.subname} fail as soon as it runs",
            )
        ]
    if isinstance(stmt, ast.DropStmt) and stmt.removeType == enums.ObjectType.OBJECT_TABLE:
        return [
            StatementReview(
                sql,
                None,
                ACCESS_EXCLUSIVE,
                "reads",
                False,
                False,
                None,
                "medium",
                "dropping a table loses its data",
                safe_alternative="Expand/contract: stop reading and writing it in code, keep it for a release (renamed if you like), then drop it.",
                breaking="anything still reading the table fails",
            )
        ]
    if isinstance(stmt, ast.AlterTableStmt):
        return [_alter(cmd, sql, stmt.relation.relname, tables) for cmd in stmt.cmds or ()]
    if isinstance(stmt, ast.UpdateStmt):
        table = stmt.relation.relname
        rows = tables.get(table, TableFacts(None)).rows
        if stmt.whereClause is not None:
            return [
                StatementReview(
                    sql,
                    table,
                    ROW_EXCLUSIVE,
                    "none",
                    False,
                    False,
                    rows,
                    "low",
                    "an UPDATE limited by its WHERE clause: keep each batch small",
                )
            ]
        return [
            StatementReview(
                sql,
                table,
                ROW_EXCLUSIVE,
                "none",
                False,
                True,
                rows,
                _risk(blocking=False, heavy=True, rows=rows),
                "an unbatched UPDATE locks every row it touches until it commits and bloats the table",
                safe_alternative="Backfill in batches of a few thousand rows, each in its own transaction.",
            )
        ]
    if isinstance(stmt, ast.ConstraintsSetStmt):
        return [StatementReview(sql, None, "", "none", False, False, None, "none", "session setting")]
    return [
        StatementReview(
            sql, None, "", "none", False, False, None, "low", f"{type(stmt).__name__} is not reviewed in detail"
        )
    ]


def _alter(cmd: ast.AlterTableCmd, sql: str, table: str, tables: Mapping[str, TableFacts]) -> StatementReview:
    facts = tables.get(table, TableFacts(None))
    rows = facts.rows
    kind = cmd.subtype
    T = enums.AlterTableType
    if kind == T.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
        column: ast.ColumnDef = cmd.def_
        constraints = column.constraints or ()
        not_null = any(c.contype == enums.ConstrType.CONSTR_NOTNULL for c in constraints)
        default = next((c for c in constraints if c.contype == enums.ConstrType.CONSTR_DEFAULT), None)
        unique = any(
            c.contype in (enums.ConstrType.CONSTR_UNIQUE, enums.ConstrType.CONSTR_PRIMARY) for c in constraints
        )
        foreign = any(c.contype == enums.ConstrType.CONSTR_FOREIGN for c in constraints)
        identity = any(c.contype == enums.ConstrType.CONSTR_IDENTITY for c in constraints) or _is_serial(
            column.typeName
        )
        volatile = default is not None and re.search(
            r"random\(|gen_random_uuid|clock_timestamp|nextval", _deparse(default.raw_expr), re.IGNORECASE
        )
        if not_null and default is None:
            return StatementReview(
                sql,
                table,
                ACCESS_EXCLUSIVE,
                "reads",
                False,
                False,
                rows,
                "high" if rows != 0 else "low",
                "a NOT NULL column without a default cannot be added to a table that has rows: the statement fails",
                safe_alternative="Add it nullable, backfill in batches, then add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it, and SET NOT NULL (no scan since PostgreSQL 12)."
                + (
                    " For its uniqueness: CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... UNIQUE USING INDEX."
                    if unique
                    else ""
                ),
            )
        if identity or volatile:
            return StatementReview(
                sql,
                table,
                ACCESS_EXCLUSIVE,
                "reads",
                True,
                True,
                rows,
                _risk(blocking=True, heavy=True, rows=rows),
                "a serial/identity or volatile default fills every row: the table is rewritten under ACCESS EXCLUSIVE",
                safe_alternative="Add the column without the default, backfill in batches, then set the default.",
            )
        if unique:
            return StatementReview(
                sql,
                table,
                ACCESS_EXCLUSIVE,
                "reads",
                False,
                True,
                rows,
                _risk(blocking=True, heavy=True, rows=rows),
                "the UNIQUE constraint builds its index while holding ACCESS EXCLUSIVE",
                safe_alternative="Add the column without UNIQUE; CREATE UNIQUE INDEX CONCURRENTLY; then ALTER TABLE ... ADD CONSTRAINT ... UNIQUE USING INDEX.",
            )
        if foreign:
            return StatementReview(
                sql,
                table,
                SHARE_ROW_EXCLUSIVE,
                "writes",
                False,
                True,
                rows,
                _risk(blocking=True, heavy=rows is None or rows > 0, rows=rows),
                "the foreign key is validated against every row while writes on both tables wait",
                safe_alternative="Add the column, then ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT (which lets writes through).",
            )
        return StatementReview(
            sql,
            table,
            ACCESS_EXCLUSIVE,
            "reads",
            False,
            False,
            rows,
            "low",
            "metadata only (a constant default has not rewritten the table since PostgreSQL 11); the lock is brief but queues behind long queries",
            safe_alternative="Run with SET lock_timeout = '2s' and retry.",
        )
    if kind == T.AT_DropColumn:
        return StatementReview(
            sql,
            table,
            ACCESS_EXCLUSIVE,
            "reads",
            False,
            False,
            rows,
            "low",
            "metadata only; the data is gone",
            safe_alternative="Expand/contract: stop reading and writing the column in code first (SeparateDatabaseAndState removes it from Django's state), drop it in a later release.",
            breaking=f"code and API clients still using {cmd.name} fail; the values cannot be restored by a rollback",
        )
    if kind == T.AT_AlterColumnType and isinstance(cmd.def_, ast.ColumnDef):
        new = _canonical(cmd.def_.typeName)
        old = facts.columns.get(cmd.name or "")
        if _binary_coercible(old, new):
            return StatementReview(
                sql, table, ACCESS_EXCLUSIVE, "reads", False, False, rows, "low", f"{old} to {new} is metadata-only"
            )
        return StatementReview(
            sql,
            table,
            ACCESS_EXCLUSIVE,
            "reads",
            True,
            True,
            rows,
            _risk(blocking=True, heavy=True, rows=rows),
            f"{old or 'the old type'} to {new} rewrites the whole table under ACCESS EXCLUSIVE",
            safe_alternative="Add a new column of the new type, write both, backfill in batches, switch reads, drop the old column (expand/contract).",
        )
    if kind == T.AT_SetNotNull:
        if (cmd.name or "") in facts.not_null_checks:
            return StatementReview(
                sql,
                table,
                ACCESS_EXCLUSIVE,
                "reads",
                False,
                False,
                rows,
                "low",
                "a validated CHECK (col IS NOT NULL) lets PostgreSQL skip the scan",
            )
        return StatementReview(
            sql,
            table,
            ACCESS_EXCLUSIVE,
            "reads",
            False,
            True,
            rows,
            _risk(blocking=True, heavy=True, rows=rows),
            "SET NOT NULL reads every row while holding ACCESS EXCLUSIVE",
            safe_alternative=f"ALTER TABLE {table} ADD CONSTRAINT {table}_{cmd.name}_not_null CHECK ({cmd.name} IS NOT NULL) NOT VALID; ALTER TABLE {table} VALIDATE CONSTRAINT {table}_{cmd.name}_not_null; then SET NOT NULL (no scan since PostgreSQL 12).",
        )
    if kind in (T.AT_DropNotNull, T.AT_ColumnDefault, T.AT_DropConstraint):
        # Metadata only, but each loosens a promise that running code may rely on.
        breaking = {
            T.AT_DropNotNull: f"code that assumes {cmd.name} always has a value may now read NULL",
            T.AT_DropConstraint: f"rows the constraint {cmd.name} kept out can now come in",
        }.get(kind, "")
        if kind == T.AT_ColumnDefault and cmd.def_ is None:
            breaking = f"inserts that leave out {cmd.name} no longer get the default (and fail if it is NOT NULL)"
        return StatementReview(
            sql,
            table,
            ACCESS_EXCLUSIVE,
            "reads",
            False,
            False,
            rows,
            "low",
            "metadata only; the lock is brief",
            breaking=breaking,
        )
    if kind == T.AT_ValidateConstraint:
        return StatementReview(
            sql,
            table,
            SHARE_UPDATE_EXCLUSIVE,
            "none",
            False,
            True,
            rows,
            "low",
            "validation scans the table but lets reads and writes through",
        )
    if kind == T.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
        constraint = cmd.def_
        if constraint.skip_validation:
            lock = SHARE_ROW_EXCLUSIVE if constraint.contype == enums.ConstrType.CONSTR_FOREIGN else ACCESS_EXCLUSIVE
            return StatementReview(
                sql,
                table,
                lock,
                BLOCKS[lock],
                False,
                False,
                rows,
                "low",
                "NOT VALID: existing rows are not checked now",
            )
        if constraint.contype == enums.ConstrType.CONSTR_FOREIGN:
            return StatementReview(
                sql,
                table,
                SHARE_ROW_EXCLUSIVE,
                "writes",
                False,
                True,
                rows,
                _risk(blocking=True, heavy=True, rows=rows),
                "the foreign key is checked against every row while writes wait",
                safe_alternative=sql.rstrip(";") + " NOT VALID; then ALTER TABLE ... VALIDATE CONSTRAINT ...;",
            )
        if constraint.contype == enums.ConstrType.CONSTR_CHECK:
            return StatementReview(
                sql,
                table,
                ACCESS_EXCLUSIVE,
                "reads",
                False,
                True,
                rows,
                _risk(blocking=True, heavy=True, rows=rows),
                "the check is evaluated on every row under ACCESS EXCLUSIVE",
                safe_alternative=sql.rstrip(";") + " NOT VALID; then VALIDATE CONSTRAINT.",
            )
        if constraint.contype in (enums.ConstrType.CONSTR_UNIQUE, enums.ConstrType.CONSTR_PRIMARY):
            if constraint.indexname:
                return StatementReview(
                    sql,
                    table,
                    ACCESS_EXCLUSIVE,
                    "reads",
                    False,
                    False,
                    rows,
                    "low",
                    "adopts an existing index: metadata only",
                )
            return StatementReview(
                sql,
                table,
                ACCESS_EXCLUSIVE,
                "reads",
                False,
                True,
                rows,
                _risk(blocking=True, heavy=True, rows=rows),
                "the constraint builds its index under ACCESS EXCLUSIVE",
                safe_alternative="CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... UNIQUE USING INDEX (NOT VALID does not exist for UNIQUE).",
            )
    return StatementReview(
        sql,
        table,
        ACCESS_EXCLUSIVE,
        "reads",
        False,
        False,
        rows,
        "low",
        f"{kind.name} is reviewed conservatively: ACCESS EXCLUSIVE assumed",
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
