"""PostgreSQL DDL into entities, read with PostgreSQL's own grammar (pglast / libpg_query).

Understood: CREATE TABLE (columns, defaults, identity/serial, primary keys, unique, foreign
keys with their ON DELETE / ON UPDATE, checks), CREATE TYPE ... AS ENUM (its labels kept on the
columns of the type), ALTER TABLE ... ADD CONSTRAINT / ADD COLUMN, CREATE [UNIQUE] INDEX (a
unique one on columns, partial or not, is a unique constraint), COMMENT ON TABLE ... IS
'rows: 40M' for declared volumes and COMMENT ON COLUMN (kept as the column's comment).
Statements that do not shape tables (SET, CREATE EXTENSION/SCHEMA/SEQUENCE, composite types,
domains, transactions) are skipped quietly; anything else is reported as ignored.

Every name is checked where it is read (`identifiers`), and every DEFAULT, CHECK, index and
generated-column expression passes the allow-list (`expressions`) or is left out of the model
with a problem on its line and a note for the migration preview.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pglast
from pglast import ast, enums
from pglast.parser import ParseError, scan
from pglast.stream import RawStream

from apps.designs.engine.expressions import expression_error
from apps.designs.engine.identifiers import MAX_IDENTIFIER_BYTES, identifier_problem, printable
from apps.designs.engine.model import (
    REFERENTIAL_ACTIONS,
    CheckConstraint,
    Column,
    Entity,
    ForeignKey,
    Index,
    Problem,
    SourceRef,
    UniqueConstraint,
)
from apps.designs.engine.text import InputError, LineIndex, byte_to_char_offset
from apps.designs.engine.volumes import rows_from_note

_TYPE_NAMES = {
    "int2": "smallint",
    "int4": "integer",
    "int": "integer",
    "int8": "bigint",
    "float4": "real",
    "float8": "double precision",
    "bool": "boolean",
    "bpchar": "char",
    "varchar": "varchar",
    "timestamptz": "timestamptz",
    "timestamp": "timestamp",
    "timetz": "timetz",
    "decimal": "numeric",
}
_SERIALS = {
    "smallserial": "smallint",
    "serial2": "smallint",
    "serial": "integer",
    "serial4": "integer",
    "bigserial": "bigint",
    "serial8": "bigint",
}
_QUIET = (
    ast.VariableSetStmt,
    ast.CreateExtensionStmt,
    ast.CreateSchemaStmt,
    ast.CreateSeqStmt,
    ast.CompositeTypeStmt,
    ast.TransactionStmt,
    ast.CreateDomainStmt,
)


# pglast's one-letter codes of a foreign key's ON DELETE / ON UPDATE actions (REFERENTIAL_ACTIONS).
_ACTIONS = dict(zip("arcnd", REFERENTIAL_ACTIONS, strict=True))


def deparse(node: Any) -> str:
    return str(RawStream()(node))


def canonical_type(type_name: ast.TypeName) -> tuple[str, bool]:
    """The canonical spelling of a column type, and whether it is a serial (an identity)."""
    names = [n.sval for n in type_name.names or ()]
    base = names[-1].lower() if names else ""
    if base in _SERIALS and not type_name.arrayBounds:
        return _SERIALS[base], True
    if type_name.pct_type or type_name.setof:
        return deparse(type_name), False
    spelled = _TYPE_NAMES.get(base, base)
    if len(names) > 1 and names[0] != "pg_catalog":
        spelled = ".".join(names)
    mods = [deparse(m) for m in type_name.typmods or ()]
    if mods and base not in {"interval"}:
        spelled += "(" + ",".join(mods) + ")"
    elif base in {"interval"} and type_name.typmods:
        spelled = deparse(type_name)
    if type_name.arrayBounds:
        spelled += "[]" * len(type_name.arrayBounds)
    return spelled, False


def normalize_type(text: str) -> str | None:
    """Canonical spelling of a type written as text (DBML), through the same grammar as DDL."""
    try:
        stmt = pglast.parse_sql(f"SELECT NULL::{text}")[0].stmt
    except ParseError:
        return None
    target = stmt.targetList[0].val  # type: ignore[union-attr,index]
    if not isinstance(target, ast.TypeCast) or target.typeName is None:
        return None
    return canonical_type(target.typeName)[0]


def normalize_expression(text: str) -> str | None:
    """An SQL expression as PostgreSQL's deparser prints it (so `now()` equals `NOW( )`)."""
    try:
        stmt = pglast.parse_sql(f"SELECT {text}")[0].stmt
    except ParseError:
        return None
    if len(stmt.targetList or ()) != 1:  # type: ignore[union-attr]
        return None
    return deparse(stmt.targetList[0].val)  # type: ignore[union-attr,index]


@dataclass
class _Table:
    name: str
    schema: str | None
    source: SourceRef
    columns: list[Column] = field(default_factory=list)
    primary_key: tuple[str, ...] = ()
    primary_key_source: SourceRef | None = None
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    uniques: list[UniqueConstraint] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    checks: list[CheckConstraint] = field(default_factory=list)
    rows: int | None = None
    left_out: list[str] = field(default_factory=list)
    # Column-level checks wait for the whole table: they may name any of its columns.
    pending_checks: list[tuple[ast.Constraint, SourceRef]] = field(default_factory=list)

    def column_names(self) -> frozenset[str]:
        return frozenset(c.name for c in self.columns)


class _Positions:
    def __init__(self, text: str, document: str, line_offset: int) -> None:
        self.text = text
        self.document = document
        self.line_offset = line_offset
        self.lines = LineIndex(text)

    def ref(self, byte_offset: int | None) -> SourceRef:
        if byte_offset is None or byte_offset < 0:
            return SourceRef(self.document, 1 + self.line_offset, 1)
        line, column = self.lines.position(byte_to_char_offset(self.text, byte_offset))
        return SourceRef(self.document, line + self.line_offset, column)


def _names(nodes: Any) -> tuple[str, ...]:
    return tuple(n.sval for n in nodes or ())


def _nul_problem(text: str, document: str, line_offset: int) -> Problem:
    line, column = LineIndex(text).position(text.index("\x00"))
    return Problem(
        code="ddl.nul-character",
        message=f"a NUL character at line {line + line_offset}, column {column}: PostgreSQL's grammar stops reading there",
        source=SourceRef(document, line + line_offset, column),
        fix="Remove the NUL character (often left by a binary copy or a broken export).",
        fatal=True,
    )


def parse_ddl(text: str, *, document: str, line_offset: int = 0) -> tuple[tuple[Entity, ...], list[Problem]]:
    """Parse PostgreSQL DDL into entities. Raises InputError (with the line) on a syntax error."""
    if "\x00" in text:
        raise InputError(_nul_problem(text, document, line_offset))
    positions = _Positions(text, document, line_offset)
    try:
        statements = pglast.parse_sql(text)
    except ParseError as exc:
        message, index = (*exc.args, None)[:2]
        index = index if isinstance(index, int) else len(text)
        line, column = LineIndex(text).position(min(index, len(text)))
        raise InputError(
            Problem(
                code="ddl.syntax-error",
                message=f"SQL syntax error at line {line + line_offset}, column {column}: {message}",
                source=SourceRef(document, line + line_offset, column),
                fix="Correct the statement at that line; the DDL is read with PostgreSQL's own grammar.",
                fatal=True,
            )
        ) from None

    reader = _Reader(positions)
    reader.problems += _long_identifiers(text, positions)
    for raw in statements:
        reader.statement(raw.stmt, positions.ref(raw.stmt_location))
    entities = tuple(
        Entity(
            name=t.name,
            columns=tuple(t.columns),
            primary_key=t.primary_key,
            foreign_keys=tuple(t.foreign_keys),
            uniques=tuple(t.uniques),
            indexes=tuple(t.indexes),
            checks=tuple(t.checks),
            rows=t.rows,
            source=t.source,
            schema=t.schema,
            left_out=tuple(t.left_out),
            primary_key_source=t.primary_key_source,
        )
        for t in reader.tables.values()
    )
    return entities, reader.problems


def _long_identifiers(text: str, positions: _Positions) -> list[Problem]:
    """Names over 63 bytes, found in the text itself: PostgreSQL's grammar (pglast's too) cuts
    them to 63 bytes while parsing, so after parsing two long names may already be one."""
    problems = []
    for token in scan(text):  # offsets in characters
        if token.name not in {"IDENT", "UIDENT"}:
            continue
        raw = text[token.start : token.end + 1]
        name = raw[1:-1].replace('""', '"') if raw.startswith('"') else raw
        line, column = positions.lines.position(token.start)
        where = SourceRef(positions.document, line + positions.line_offset, column)
        problem = identifier_problem(name, what="", source=where, code="ddl")
        if problem is not None and len(name.encode("utf-8")) > MAX_IDENTIFIER_BYTES:
            problems.append(
                replace(problem, message=f"the name `{printable(name)}`" + problem.message.split("`", 2)[2])
            )
    return problems


def _nextval_serial(node: Any) -> bool:
    """`nextval('orders_id_seq'::regclass)`, pg_dump's spelling of a serial column's default."""
    if not isinstance(node, ast.FuncCall) or [n.sval for n in node.funcname or ()][-1:] != ["nextval"]:
        return False
    args = node.args or ()
    if len(args) != 1:
        return False
    arg = args[0].arg if isinstance(args[0], ast.TypeCast) else args[0]
    return isinstance(arg, ast.A_Const) and isinstance(arg.val, ast.String)


class _Reader:
    """Reads statements into tables; every name and expression is checked on its way in."""

    def __init__(self, positions: _Positions) -> None:
        self.positions = positions
        self.tables: dict[str, _Table] = {}
        self.problems: list[Problem] = []
        self.enums: dict[str, tuple[str, ...]] = {}  # enum type -> its labels, as created above

    def statement(self, stmt: Any, where: SourceRef) -> None:
        if isinstance(stmt, ast.CreateStmt):
            self.create_table(stmt, where)
        elif isinstance(stmt, ast.CommentStmt) and stmt.objtype == enums.ObjectType.OBJECT_TABLE:
            names = _names(stmt.object) if isinstance(stmt.object, tuple) else ()
            table = self.tables.get(names[-1]) if names else None
            if table is not None and stmt.comment:
                table.rows = rows_from_note(stmt.comment) or table.rows
        elif isinstance(stmt, ast.CommentStmt) and stmt.objtype == enums.ObjectType.OBJECT_COLUMN:
            names = _names(stmt.object) if isinstance(stmt.object, tuple) else ()
            table = self.tables.get(names[-2]) if len(names) >= 2 else None
            if table is not None:
                table.columns = [replace(c, comment=stmt.comment) if c.name == names[-1] else c for c in table.columns]
        elif isinstance(stmt, ast.IndexStmt):
            self.create_index(stmt, where)
        elif isinstance(stmt, ast.AlterTableStmt):
            self.alter_table(stmt, where)
        elif isinstance(stmt, ast.CreateEnumStmt):
            type_names = _names(stmt.typeName)
            self.names(type_names, "type", where)
            if self.names(_names(stmt.vals), f"value of enum {'.'.join(type_names)}", where) and type_names:
                self.enums[type_names[-1]] = _names(stmt.vals)
        elif isinstance(stmt, (ast.CommentStmt, *_QUIET)):
            return
        else:
            self.problems.append(
                Problem(
                    code="ddl.ignored-statement",
                    message=f"{type(stmt).__name__.removesuffix('Stmt')} statement ignored: only statements that create or alter tables and indexes shape the data model",
                    source=where,
                    fix="Move data changes and other statements out of the data model block, or ignore this note.",
                    severity="info",
                )
            )

    def names(self, names: tuple[str | None, ...], what: str, where: SourceRef) -> bool:
        """Check each name; a problem for each that cannot be an identifier. True when all can."""
        ok = True
        for name in names:
            if name is None:
                continue
            problem = identifier_problem(name, what=what, source=where, code="ddl")
            if problem is not None:
                self.problems.append(problem)
                ok = False
        return ok

    def refused(self, node: Any, *, table: _Table, what: str, where: SourceRef, columns: bool = True) -> bool:
        """True (with a problem and a note) when the expression is off the allow-list."""
        reason = expression_error(node, columns=table.column_names() if columns else None)
        if reason is None:
            return False
        shown = printable(deparse(node), limit=120)
        self.problems.append(
            Problem(
                code="ddl.expression-refused",
                message=f"{what} `{shown}` is left out of the model: {reason}",
                source=where,
                fix="Use constants, columns, operators, casts to built-in types, CASE/COALESCE and the functions "
                "listed in docs/migration-rules.md; keep anything else in a migration of your own.",
            )
        )
        table.left_out.append(f"{printable(table.name)}: {what} left out ({reason})")
        return True

    def create_table(self, stmt: ast.CreateStmt, where: SourceRef) -> None:
        relation = stmt.relation
        table = _Table(name=relation.relname, schema=relation.schemaname, source=where)  # type: ignore[union-attr]
        self.names((table.schema, table.name), "table", where)
        if table.name in self.tables:
            self.problems.append(
                Problem(
                    code="ddl.duplicate-table",
                    message=f"table {printable(table.name)} is created twice; the later definition wins",
                    source=where,
                    fix="Keep one CREATE TABLE per table.",
                )
            )
        for element in stmt.tableElts or ():
            if isinstance(element, ast.ColumnDef):
                self.column(element, table)
            elif isinstance(element, ast.Constraint):
                self.constraint(element, table, self.positions.ref(element.location))
        for constraint, at in table.pending_checks:
            self.check(constraint, table, at)
        table.pending_checks.clear()
        # A primary key implies NOT NULL on its columns, wherever it was declared.
        table.columns = [
            replace(c, nullable=False) if c.name in table.primary_key and c.nullable else c for c in table.columns
        ]
        self.tables[table.name] = table

    def check(self, constraint: ast.Constraint, table: _Table, where: SourceRef) -> None:
        what = f"CHECK constraint {constraint.conname}" if constraint.conname else "CHECK constraint"
        if self.refused(constraint.raw_expr, table=table, what=f"{what} on {table.name}", where=where):
            return
        table.checks.append(
            CheckConstraint(expression=deparse(constraint.raw_expr), source=where, name=constraint.conname)
        )

    def constraint(
        self, constraint: ast.Constraint, table: _Table, where: SourceRef, columns: tuple[str, ...] | None = None
    ) -> None:
        kind = constraint.contype
        keys = columns if columns is not None else _names(constraint.keys)
        self.names((constraint.conname,), f"constraint on {printable(table.name)}", where)
        if columns is None:  # a column's own constraint: its name was checked with the column
            self.names(keys, f"key column of {printable(table.name)}", where)
        if kind == enums.ConstrType.CONSTR_PRIMARY:
            table.primary_key = keys
            table.primary_key_source = where
        elif kind == enums.ConstrType.CONSTR_UNIQUE:
            table.uniques.append(
                UniqueConstraint(
                    columns=keys,
                    source=where,
                    name=constraint.conname,
                    nulls_distinct=not constraint.nulls_not_distinct,
                )
            )
        elif kind == enums.ConstrType.CONSTR_FOREIGN and constraint.pktable is not None:
            fk_columns = columns if columns is not None else _names(constraint.fk_attrs)
            ref_columns = _names(constraint.pk_attrs) or ("id",)
            self.names((constraint.pktable.relname,), "referenced table", where)
            self.names(
                (fk_columns if columns is None else ()) + ref_columns,
                f"foreign key column of {printable(table.name)}",
                where,
            )
            table.foreign_keys.append(
                ForeignKey(
                    columns=fk_columns,
                    ref_table=constraint.pktable.relname,
                    ref_columns=ref_columns,
                    source=where,
                    name=constraint.conname,
                    on_delete=_ACTIONS.get(constraint.fk_del_action or "a", "NO ACTION"),
                    on_update=_ACTIONS.get(constraint.fk_upd_action or "a", "NO ACTION"),
                )
            )
            if constraint.fk_del_set_cols:
                table.left_out.append(
                    f"{printable(table.name)}: ON DELETE {_ACTIONS.get(constraint.fk_del_action or 'a')} "
                    f"({', '.join(printable(n) for n in _names(constraint.fk_del_set_cols))}) is previewed "
                    "on every column of its foreign key: Django names no column list"
                )
        elif kind == enums.ConstrType.CONSTR_CHECK and constraint.raw_expr is not None:
            if columns is not None:
                table.pending_checks.append((constraint, where))
            else:
                self.check(constraint, table, where)

    def column(self, definition: ast.ColumnDef, table: _Table) -> None:
        where = self.positions.ref(definition.location)
        name = definition.colname or ""
        self.names((name,), f"column of {printable(table.name)}", where)
        spelled, identity = canonical_type(definition.typeName)  # type: ignore[arg-type]
        type_names = _names(definition.typeName.names) if definition.typeName is not None else ()
        values = (
            self.enums.get(type_names[-1], ())
            if type_names and not definition.typeName.arrayBounds  # type: ignore[union-attr]
            else ()
        )
        nullable = True
        default: str | None = None
        for constraint in definition.constraints or ():
            kind = constraint.contype
            if kind in (enums.ConstrType.CONSTR_NOTNULL, enums.ConstrType.CONSTR_PRIMARY):
                nullable = False
            if kind == enums.ConstrType.CONSTR_DEFAULT and constraint.raw_expr is not None:
                if _nextval_serial(constraint.raw_expr):
                    identity = True  # a serial column as pg_dump writes it
                elif not self.refused(
                    constraint.raw_expr, table=table, what=f"DEFAULT of {name}", where=where, columns=False
                ):
                    default = deparse(constraint.raw_expr)
            elif kind == enums.ConstrType.CONSTR_GENERATED and constraint.raw_expr is not None:
                if not self.refused(constraint.raw_expr, table=table, what=f"generated column {name}", where=where):
                    table.left_out.append(
                        f"{printable(table.name)}.{printable(name)}: GENERATED ALWAYS AS (…) is previewed as a plain column"
                    )
            elif kind == enums.ConstrType.CONSTR_IDENTITY:
                identity = True
                nullable = False
            elif kind in (
                enums.ConstrType.CONSTR_PRIMARY,
                enums.ConstrType.CONSTR_UNIQUE,
                enums.ConstrType.CONSTR_FOREIGN,
                enums.ConstrType.CONSTR_CHECK,
            ):
                self.constraint(constraint, table, where, columns=(name,))
        if identity:
            nullable = False
        table.columns.append(
            Column(
                name=name,
                type=spelled,
                nullable=nullable,
                default=default,
                identity=identity,
                source=where,
                values=values,
            )
        )

    def _table_of(self, stmt: ast.IndexStmt | ast.AlterTableStmt, where: SourceRef, what: str) -> _Table | None:
        table = self.tables.get(stmt.relation.relname) if stmt.relation else None  # type: ignore[union-attr]
        if table is None:
            shown = printable(stmt.relation.relname) if stmt.relation else "?"  # type: ignore[union-attr]
            self.problems.append(
                Problem(
                    code="ddl.unknown-table",
                    message=what.format(table=shown),
                    source=where,
                    fix="Create the table before this statement, or paste the whole schema.",
                )
            )
        return table

    def create_index(self, stmt: ast.IndexStmt, where: SourceRef) -> None:
        name = printable(stmt.idxname or "")
        table = self._table_of(stmt, where, f"index {name} is on table {{table}}, which is not created above")
        if table is None:
            return
        self.names((stmt.idxname,), f"index on {printable(table.name)}", where)
        params = stmt.indexParams or ()
        self.names(tuple(p.name for p in params if p.name), f"indexed column of {printable(table.name)}", where)
        what = f"index {stmt.idxname}" if stmt.idxname else f"index on {table.name}"
        if any(p.expr is not None and self.refused(p.expr, table=table, what=what, where=where) for p in params):
            return
        if stmt.whereClause is not None and self.refused(
            stmt.whereClause, table=table, what=f"WHERE clause of {what}", where=where
        ):
            return
        columns = tuple(p.name if p.name else deparse(p.expr) for p in params)
        dropped = [
            part
            for p in params
            for part, present in (
                ("DESC", p.ordering == enums.SortByDir.SORTBY_DESC),
                ("NULLS FIRST/LAST", p.nulls_ordering != enums.SortByNulls.SORTBY_NULLS_DEFAULT),
                ("an operator class", bool(p.opclass)),
                ("a collation", bool(p.collation)),
            )
            if present
        ]
        if dropped or stmt.indexIncludingParams:
            shown = ", ".join(dict.fromkeys(dropped + (["INCLUDE (...)"] if stmt.indexIncludingParams else [])))
            table.left_out.append(
                f"{printable(table.name)}: index {printable(stmt.idxname or '')} is previewed without {shown}: "
                "the preview writes plain ascending columns"
            )
        index = Index(
            columns=columns,
            unique=bool(stmt.unique),
            source=where,
            name=stmt.idxname,
            method=stmt.accessMethod or "btree",
            where=deparse(stmt.whereClause) if stmt.whereClause is not None else None,
        )
        # A unique index on columns is what a UNIQUE constraint is (a partial one, unique among
        # the rows its WHERE selects); expression unique indexes stay indexes.
        if index.unique and all(p.name for p in params) and index.method == "btree":
            table.uniques.append(
                UniqueConstraint(
                    columns=columns,
                    source=where,
                    name=stmt.idxname,
                    where=index.where,
                    nulls_distinct=not stmt.nulls_not_distinct,
                )
            )
        else:
            table.indexes.append(index)

    def alter_table(self, stmt: ast.AlterTableStmt, where: SourceRef) -> None:
        table = self._table_of(stmt, where, "ALTER TABLE {table}: the table is not created above")
        if table is None:
            return
        for command in stmt.cmds or ():
            if command.subtype == enums.AlterTableType.AT_AddConstraint and isinstance(command.def_, ast.Constraint):
                self.constraint(command.def_, table, where)
            elif command.subtype == enums.AlterTableType.AT_AddColumn and isinstance(command.def_, ast.ColumnDef):
                self.column(command.def_, table)
        for constraint, at in table.pending_checks:
            self.check(constraint, table, at)
        table.pending_checks.clear()
