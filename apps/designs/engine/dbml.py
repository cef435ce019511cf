"""DBML (dbdiagram.io's language) into entities, read with pydbml.

Types and defaults go through PostgreSQL's grammar (ddl.normalize_type/expression) so that
a DBML model and the same model written as DDL compare equal. pydbml keeps no positions, so a
table's or column's line is found by locating its declaration in the text afterwards.
A reference's `[delete: ..., update: ...]` actions are kept; an enum's labels are kept on the
columns of its type. Ignored: table groups, projects and notes other than `rows: N` volumes
(pydbml reads no CHECK constraints and no partial indexes, so DBML declares neither). Names are checked as the DDL parser checks them, and
backtick expressions pass the same allow-list (`expressions`) or are left out with a problem.
"""

from __future__ import annotations

import re
from typing import Any

import pyparsing
from pydbml import PyDBML
from pydbml.classes import Enum, Expression

from apps.designs.engine.ddl import deparse, normalize_expression, normalize_type
from apps.designs.engine.expressions import expression_error, parse_expression
from apps.designs.engine.identifiers import identifier_problem, printable
from apps.designs.engine.model import (
    Column,
    Entity,
    ForeignKey,
    Index,
    Problem,
    SourceRef,
    UniqueConstraint,
)
from apps.designs.engine.text import InputError, LineIndex
from apps.designs.engine.volumes import rows_from_note


class _Lines:
    """Finds where pydbml's tables and columns were declared."""

    def __init__(self, text: str, document: str, line_offset: int) -> None:
        self.text = text
        self.document = document
        self.line_offset = line_offset
        self.index = LineIndex(text)

    def _ref(self, offset: int) -> SourceRef:
        line, column = self.index.position(offset)
        return SourceRef(self.document, line + self.line_offset, column)

    def table(self, name: str) -> tuple[SourceRef, int]:
        pattern = re.compile(
            r'^[ \t]*Table[ \t]+(?:"?\w+"?\.)?"?' + re.escape(name) + r'"?\b',
            re.MULTILINE | re.IGNORECASE,
        )
        match = pattern.search(self.text)
        offset = match.start() + len(match.group(0)) - len(match.group(0).lstrip()) if match else 0
        return self._ref(offset), offset

    def index_line(self, table_offset: int, subjects: list[Any], fallback: SourceRef) -> SourceRef:
        """The line of an index in the table's `indexes { ... }` block: `(a, b) [...]`, `a [...]`
        or a backtick expression; `fallback` (the table's line) when it cannot be told apart."""
        block = re.compile(r"^[ \t]*indexes[ \t]*\{", re.MULTILINE | re.IGNORECASE).search(self.text, table_offset)
        following = re.compile(r"^[ \t]*Table[ \t]", re.MULTILINE | re.IGNORECASE).search(self.text, table_offset + 1)
        if block is None or (following is not None and following.start() < block.start()):
            return fallback
        parts = [
            "`" + re.escape(s.text) + "`"
            if isinstance(s, Expression)
            else '"?' + re.escape(str(getattr(s, "name", s))) + '"?'
            for s in subjects
        ]
        body = r"\(\s*" + r"\s*,\s*".join(parts) + r"\s*\)" if len(parts) > 1 else parts[0] if parts else ""
        if not body:
            return fallback
        match = re.compile(r"^[ \t]*" + body + r"[ \t]*(?:\[|$)", re.MULTILINE).search(self.text, block.end())
        if match is None or (following is not None and match.start() > following.start()):
            return fallback
        return self._ref(match.start() + len(match.group(0)) - len(match.group(0).lstrip()))

    def column(self, table_offset: int, name: str) -> SourceRef:
        pattern = re.compile(r'^[ \t]*"?' + re.escape(name) + r'"?[ \t]', re.MULTILINE)
        match = pattern.search(self.text, table_offset)
        if match is None:
            return self._ref(table_offset)
        return self._ref(match.start() + len(match.group(0)) - len(match.group(0).lstrip()))


def _expression(text: str, *, columns: frozenset[str] | None) -> tuple[str | None, str | None]:
    """A backtick expression as PostgreSQL prints it, or None with the reason it is refused."""
    node = parse_expression(text)
    if node is None:
        return None, "it is not one SQL expression"
    reason = expression_error(node, columns=columns)
    return (None, reason) if reason else (deparse(node), None)


def _default(value: Any) -> tuple[str | None, str | None]:
    """The column default as PostgreSQL prints it, or None with the reason it is refused."""
    if value is None:
        return None, None
    if isinstance(value, Expression):
        return _expression(value.text, columns=None)
    if isinstance(value, bool):
        return normalize_expression("true" if value else "false"), None
    if isinstance(value, int | float):
        return normalize_expression(str(value)), None
    literal = "'" + str(value).replace("'", "''") + "'"
    return normalize_expression(literal) or literal, None


def _action(value: Any) -> str:
    """A reference's `delete:`/`update:` setting as PostgreSQL spells it (pydbml allows only
    the five actions, in any case)."""
    return str(value).upper() if value else "NO ACTION"


def _subject_name(subject: Any, columns: frozenset[str]) -> tuple[str | None, str | None]:
    """An index part: its column name, or its expression as PostgreSQL prints it (or the reason
    it is refused)."""
    if isinstance(subject, Expression):
        return _expression(subject.text, columns=columns)
    return str(getattr(subject, "name", subject)), None


def _name_problems(parsed: Any, lines: _Lines) -> list[Problem]:
    """Every table, column, index, reference and enum name checked on its line."""
    problems: list[Problem] = []

    def check(name: Any, what: str, where: SourceRef) -> None:
        if name is None or name == "":
            return
        problem = identifier_problem(str(name), what=what, source=where, code="dbml")
        if problem is not None:
            problems.append(problem)

    for table in parsed.tables:
        table_ref, table_offset = lines.table(table.name)
        check(table.name, "table", table_ref)
        if table.schema != "public":
            check(table.schema, "schema", table_ref)
        for column in table.columns:
            check(column.name, f"column of {printable(table.name)}", lines.column(table_offset, column.name))
        for index in table.indexes:
            check(index.name, f"index on {printable(table.name)}", table_ref)
    for ref in parsed.refs:
        check(ref.name, "reference", SourceRef(lines.document, 1 + lines.line_offset, 1))
    for enum in parsed.enums:
        where = SourceRef(lines.document, 1 + lines.line_offset, 1)
        check(enum.name, "enum", where)
        for item in enum.items:
            check(item.name, f"value of enum {printable(enum.name)}", where)
    return problems


def parse_dbml(text: str, *, document: str, line_offset: int = 0) -> tuple[tuple[Entity, ...], list[Problem]]:
    """Parse DBML into entities. Raises InputError (with the line) when pydbml cannot read it."""
    try:
        parsed = PyDBML(text)
    except pyparsing.ParseBaseException as exc:
        near = exc.line.strip()[:80]
        raise InputError(
            Problem(
                code="dbml.syntax-error",
                message=f"DBML syntax error at line {exc.lineno + line_offset}, column {exc.col}: cannot read `{near}`",
                source=SourceRef(document, exc.lineno + line_offset, exc.col),
                fix="Check that line against the DBML syntax (https://dbml.dbdiagram.io/docs): settings go in [brackets], separated by commas.",
                fatal=True,
            )
        ) from None
    except Exception as exc:  # pydbml raises its own errors for dangling references and the like
        raise InputError(
            Problem(
                code="dbml.invalid",
                message=f"the DBML cannot be read: {exc}",
                source=SourceRef(document, 1 + line_offset, 1),
                fix="Correct the named table or reference.",
                fatal=True,
            )
        ) from None

    if "\x00" in text:
        raise InputError(
            Problem(
                code="dbml.nul-character",
                message=f"a NUL character at line {text.count(chr(10), 0, text.index(chr(0))) + 1 + line_offset}",
                source=SourceRef(document, text.count("\n", 0, text.index("\x00")) + 1 + line_offset, 1),
                fix="Remove the NUL character (often left by a binary copy or a broken export).",
                fatal=True,
            )
        )
    lines = _Lines(text, document, line_offset)
    problems: list[Problem] = _name_problems(parsed, lines)
    foreign_keys: dict[str, list[ForeignKey]] = {}
    for ref in parsed.refs:
        many, one = (ref.col2, ref.col1) if ref.type == "<" else (ref.col1, ref.col2)
        if not many or not one:
            continue
        owner = many[0].table.name
        table_ref, table_offset = lines.table(owner)
        foreign_keys.setdefault(owner, []).append(
            ForeignKey(
                columns=tuple(c.name for c in many),
                ref_table=one[0].table.name,
                ref_columns=tuple(c.name for c in one),
                source=lines.column(table_offset, many[0].name) if len(many) == 1 else table_ref,
                name=ref.name,
                on_delete=_action(ref.on_delete),
                on_update=_action(ref.on_update),
            )
        )

    entities = []
    for table in parsed.tables:
        table_ref, table_offset = lines.table(table.name)
        columns = []
        uniques = []
        primary = []
        primary_source: SourceRef | None = None
        left_out: list[str] = []
        column_names = frozenset(c.name for c in table.columns)

        def refused(
            what: str, reason: str, where: SourceRef, table_name: str = table.name, left_out: list[str] = left_out
        ) -> None:
            problems.append(
                Problem(
                    code="dbml.expression-refused",
                    message=f"{what} of {printable(table_name)} is left out of the model: {reason}",
                    source=where,
                    fix="Use constants, columns, operators, casts to built-in types, CASE/COALESCE and the "
                    "functions listed in docs/migration-rules.md.",
                )
            )
            left_out.append(f"{printable(table_name)}: {what} left out ({reason})")

        for column in table.columns:
            where = lines.column(table_offset, column.name)
            spelled = normalize_type(str(column.type))
            if spelled is None:
                problems.append(
                    Problem(
                        code="dbml.unknown-type",
                        message=f"{table.name}.{column.name}: `{column.type}` is not a PostgreSQL type; kept as written",
                        source=where,
                        fix="Use a PostgreSQL type name (text, varchar(100), bigint, timestamptz, ...).",
                    )
                )
                spelled = str(column.type)
            default, reason = _default(column.default)
            if reason is not None:
                refused(f"default of {printable(column.name)}", reason, where)
            columns.append(
                Column(
                    name=column.name,
                    type=spelled,
                    nullable=not (column.not_null or column.pk),
                    default=default,
                    identity=bool(column.autoinc),
                    source=where,
                    values=tuple(str(item.name) for item in column.type.items) if isinstance(column.type, Enum) else (),
                )
            )
            if column.pk:
                primary.append(column.name)
                primary_source = primary_source or where
            if column.unique:
                uniques.append(UniqueConstraint(columns=(column.name,), source=where))
        indexes = []
        for index in table.indexes:
            where = lines.index_line(table_offset, list(index.subjects), table_ref)
            subjects = [_subject_name(s, column_names) for s in index.subjects]
            reasons = [reason for _, reason in subjects if reason]
            if reasons:
                refused(f"index {printable(index.name or '')}".rstrip(), reasons[0], where)
                continue
            names = tuple(name for name, _ in subjects if name is not None)
            if index.pk:
                primary = list(names)
                primary_source = where
            elif index.unique and not any(isinstance(s, Expression) for s in index.subjects):
                uniques.append(UniqueConstraint(columns=names, source=where, name=index.name or None))
            else:
                indexes.append(
                    Index(
                        columns=names,
                        unique=bool(index.unique),
                        source=where,
                        name=index.name or None,
                        method=str(index.type or "btree"),
                    )
                )
        note = table.note.text if table.note else ""
        entities.append(
            Entity(
                name=table.name,
                columns=tuple(columns),
                primary_key=tuple(primary),
                foreign_keys=tuple(foreign_keys.get(table.name, ())),
                uniques=tuple(uniques),
                indexes=tuple(indexes),
                checks=(),
                rows=rows_from_note(note) if note else None,
                source=table_ref,
                schema=table.schema if table.schema != "public" else None,
                left_out=tuple(left_out),
                primary_key_source=primary_source,
            )
        )
    return tuple(entities), problems
