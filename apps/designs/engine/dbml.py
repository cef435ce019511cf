"""DBML (dbdiagram.io's language) into entities, read with pydbml.

Types and defaults go through PostgreSQL's grammar (ddl.normalize_type/expression) so that
a DBML model and the same model written as DDL compare equal. pydbml keeps no positions, so a
table's or column's line is found by locating its declaration in the text afterwards.
Ignored: enums, table groups, projects and notes other than `rows: N` volumes.
"""

from __future__ import annotations

import re
from typing import Any

import pyparsing
from pydbml import PyDBML
from pydbml.classes import Expression

from apps.designs.engine.ddl import normalize_expression, normalize_type
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

    def column(self, table_offset: int, name: str) -> SourceRef:
        pattern = re.compile(r'^[ \t]*"?' + re.escape(name) + r'"?[ \t]', re.MULTILINE)
        match = pattern.search(self.text, table_offset)
        if match is None:
            return self._ref(table_offset)
        return self._ref(match.start() + len(match.group(0)) - len(match.group(0).lstrip()))


def _default(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Expression):
        return normalize_expression(value.text) or value.text
    if isinstance(value, bool):
        return normalize_expression("true" if value else "false")
    if isinstance(value, int | float):
        return normalize_expression(str(value))
    literal = "'" + str(value).replace("'", "''") + "'"
    return normalize_expression(literal) or literal


def _subject_name(subject: Any) -> str:
    if isinstance(subject, Expression):
        return normalize_expression(subject.text) or subject.text
    return str(getattr(subject, "name", subject))


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

    lines = _Lines(text, document, line_offset)
    problems: list[Problem] = []
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
            )
        )

    entities = []
    for table in parsed.tables:
        table_ref, table_offset = lines.table(table.name)
        columns = []
        uniques = []
        primary = []
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
            columns.append(
                Column(
                    name=column.name,
                    type=spelled,
                    nullable=not (column.not_null or column.pk),
                    default=_default(column.default),
                    identity=bool(column.autoinc),
                    source=where,
                )
            )
            if column.pk:
                primary.append(column.name)
            if column.unique:
                uniques.append(UniqueConstraint(columns=(column.name,), source=where))
        indexes = []
        for index in table.indexes:
            names = tuple(_subject_name(s) for s in index.subjects)
            where = table_ref
            if index.pk:
                primary = list(names)
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
            )
        )
    return tuple(entities), problems
