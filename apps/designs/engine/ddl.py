"""PostgreSQL DDL into entities, read with PostgreSQL's own grammar (pglast / libpg_query).

Understood: CREATE TABLE (columns, defaults, identity/serial, primary keys, unique, foreign
keys, checks), ALTER TABLE ... ADD CONSTRAINT / ADD COLUMN, CREATE [UNIQUE] INDEX, and
COMMENT ON TABLE ... IS 'rows: 40M' for declared volumes. Statements that do not shape tables
(SET, CREATE EXTENSION/SCHEMA/SEQUENCE/TYPE, transactions) are skipped quietly; anything else
is reported as ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pglast
from pglast import ast, enums
from pglast.parser import ParseError
from pglast.stream import RawStream

from apps.designs.engine.model import (
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
    ast.CreateEnumStmt,
    ast.CompositeTypeStmt,
    ast.TransactionStmt,
    ast.CreateDomainStmt,
)


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
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    uniques: list[UniqueConstraint] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    checks: list[CheckConstraint] = field(default_factory=list)
    rows: int | None = None


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


def parse_ddl(text: str, *, document: str, line_offset: int = 0) -> tuple[tuple[Entity, ...], list[Problem]]:
    """Parse PostgreSQL DDL into entities. Raises InputError (with the line) on a syntax error."""
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

    tables: dict[str, _Table] = {}
    problems: list[Problem] = []
    for raw in statements:
        stmt = raw.stmt
        where = positions.ref(raw.stmt_location)
        if isinstance(stmt, ast.CreateStmt):
            _create_table(stmt, tables, positions, where, problems)
        elif isinstance(stmt, ast.CommentStmt) and stmt.objtype == enums.ObjectType.OBJECT_TABLE:
            names = _names(stmt.object) if isinstance(stmt.object, tuple) else ()
            table = tables.get(names[-1]) if names else None
            if table is not None and stmt.comment:
                table.rows = rows_from_note(stmt.comment) or table.rows
        elif isinstance(stmt, ast.IndexStmt):
            _create_index(stmt, tables, positions, where, problems)
        elif isinstance(stmt, ast.AlterTableStmt):
            _alter_table(stmt, tables, positions, where, problems)
        elif isinstance(stmt, (ast.CommentStmt, *_QUIET)):
            continue
        else:
            problems.append(
                Problem(
                    code="ddl.ignored-statement",
                    message=f"{type(stmt).__name__.removesuffix('Stmt')} statement ignored: only statements that create or alter tables and indexes shape the data model",
                    source=where,
                    fix="Move data changes and other statements out of the data model block, or ignore this note.",
                    severity="info",
                )
            )
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
        )
        for t in tables.values()
    )
    return entities, problems


def _table_constraint(
    constraint: ast.Constraint,
    table: _Table,
    where: SourceRef,
    columns: tuple[str, ...] | None = None,
) -> None:
    kind = constraint.contype
    keys = columns if columns is not None else _names(constraint.keys)
    if kind == enums.ConstrType.CONSTR_PRIMARY:
        table.primary_key = keys
    elif kind == enums.ConstrType.CONSTR_UNIQUE:
        table.uniques.append(UniqueConstraint(columns=keys, source=where, name=constraint.conname))
    elif kind == enums.ConstrType.CONSTR_FOREIGN and constraint.pktable is not None:
        fk_columns = columns if columns is not None else _names(constraint.fk_attrs)
        table.foreign_keys.append(
            ForeignKey(
                columns=fk_columns,
                ref_table=constraint.pktable.relname,
                ref_columns=_names(constraint.pk_attrs) or ("id",),
                source=where,
                name=constraint.conname,
            )
        )
    elif kind == enums.ConstrType.CONSTR_CHECK and constraint.raw_expr is not None:
        table.checks.append(
            CheckConstraint(
                expression=deparse(constraint.raw_expr),
                source=where,
                name=constraint.conname,
            )
        )


def _column(definition: ast.ColumnDef, table: _Table, positions: _Positions) -> None:
    where = positions.ref(definition.location)
    spelled, identity = canonical_type(definition.typeName)  # type: ignore[arg-type]
    nullable = True
    default: str | None = None
    for constraint in definition.constraints or ():
        kind = constraint.contype
        if kind in (enums.ConstrType.CONSTR_NOTNULL, enums.ConstrType.CONSTR_PRIMARY):
            nullable = False
        if kind == enums.ConstrType.CONSTR_DEFAULT and constraint.raw_expr is not None:
            default = deparse(constraint.raw_expr)
        elif kind == enums.ConstrType.CONSTR_IDENTITY:
            identity = True
            nullable = False
        elif kind in (
            enums.ConstrType.CONSTR_PRIMARY,
            enums.ConstrType.CONSTR_UNIQUE,
            enums.ConstrType.CONSTR_FOREIGN,
            enums.ConstrType.CONSTR_CHECK,
        ):
            _table_constraint(constraint, table, where, columns=(definition.colname,))  # type: ignore[arg-type]
    if identity:
        nullable = False
    table.columns.append(
        Column(
            name=definition.colname or "",
            type=spelled,
            nullable=nullable,
            default=default,
            identity=identity,
            source=where,
        )
    )


def _create_table(
    stmt: ast.CreateStmt,
    tables: dict[str, _Table],
    positions: _Positions,
    where: SourceRef,
    problems: list[Problem],
) -> None:
    relation = stmt.relation
    table = _Table(name=relation.relname, schema=relation.schemaname, source=where)  # type: ignore[union-attr]
    if table.name in tables:
        problems.append(
            Problem(
                code="ddl.duplicate-table",
                message=f"table {table.name} is created twice; the later definition wins",
                source=where,
                fix="Keep one CREATE TABLE per table.",
            )
        )
    for element in stmt.tableElts or ():
        if isinstance(element, ast.ColumnDef):
            _column(element, table, positions)
        elif isinstance(element, ast.Constraint):
            _table_constraint(element, table, positions.ref(element.location))
    # A primary key implies NOT NULL on its columns, wherever it was declared.
    table.columns = [
        Column(c.name, c.type, False, c.default, c.identity, c.source)
        if c.name in table.primary_key and c.nullable
        else c
        for c in table.columns
    ]
    tables[table.name] = table


def _create_index(
    stmt: ast.IndexStmt,
    tables: dict[str, _Table],
    positions: _Positions,
    where: SourceRef,
    problems: list[Problem],
) -> None:
    table = tables.get(stmt.relation.relname) if stmt.relation else None  # type: ignore[union-attr]
    if table is None:
        problems.append(
            Problem(
                code="ddl.unknown-table",
                message=f"index {stmt.idxname or ''} is on table {stmt.relation.relname if stmt.relation else '?'}, which is not created above",
                source=where,
                fix="Create the table before its indexes, or paste the whole schema.",
            )
        )
        return
    columns = tuple(p.name if p.name else deparse(p.expr) for p in stmt.indexParams or ())
    index = Index(
        columns=columns,
        unique=bool(stmt.unique),
        source=where,
        name=stmt.idxname,
        method=stmt.accessMethod or "btree",
        where=deparse(stmt.whereClause) if stmt.whereClause is not None else None,
    )
    # A plain unique index on columns is what a UNIQUE constraint is; partial and expression
    # unique indexes stay indexes.
    if index.unique and index.where is None and all(p.name for p in stmt.indexParams or ()):
        table.uniques.append(UniqueConstraint(columns=columns, source=where, name=stmt.idxname))
    else:
        table.indexes.append(index)


def _alter_table(
    stmt: ast.AlterTableStmt,
    tables: dict[str, _Table],
    positions: _Positions,
    where: SourceRef,
    problems: list[Problem],
) -> None:
    table = tables.get(stmt.relation.relname) if stmt.relation else None  # type: ignore[union-attr]
    if table is None:
        problems.append(
            Problem(
                code="ddl.unknown-table",
                message=f"ALTER TABLE {stmt.relation.relname if stmt.relation else '?'}: the table is not created above",
                source=where,
                fix="Create the table before altering it, or paste the whole schema.",
            )
        )
        return
    for command in stmt.cmds or ():
        if command.subtype == enums.AlterTableType.AT_AddConstraint and isinstance(command.def_, ast.Constraint):
            _table_constraint(command.def_, table, where)
        elif command.subtype == enums.AlterTableType.AT_AddColumn and isinstance(command.def_, ast.ColumnDef):
            _column(command.def_, table, positions)
