"""Named queries (`-- name: customer_orders_page` followed by one statement).

Design docs write parameters as `:name`, `%(name)s`, `?` or `$1`. sqlparse's lexer finds them
(it already skips strings, comments and `::` casts); they are rewritten to `$1, $2, ...` so that
PostgreSQL's parser (pglast) can read the statement, and the tables it touches are collected.
"""

from __future__ import annotations

from typing import Any

import pglast
import sqlparse
from pglast import ast
from pglast.parser import ParseError
from pglast.visitors import Visitor
from sqlparse import tokens

from apps.designs.engine.model import NamedQuery, Problem, SourceRef
from apps.designs.engine.sqlblocks import NAME_MARKER, has_named_queries, split_named  # noqa: F401 - re-exported
from apps.designs.engine.text import LineIndex

# PostgreSQL binds at most this many parameters to a statement (the protocol counts them in 16 bits).
MAX_PARAMETERS = 65535


def normalize_parameters(sql: str) -> tuple[str, tuple[str, ...]]:
    """Rewrite placeholders to $n; returns the SQL and the parameter names in $n order. A `$n`
    past MAX_PARAMETERS is left as written (PostgreSQL's parser refuses it), never counted up to."""
    names: list[str] = []
    out: list[str] = []
    for kind, value in sqlparse.lexer.tokenize(sql):
        if kind is not tokens.Name.Placeholder:
            out.append(value)
            continue
        if value.startswith("$") and value[1:].isdigit():
            number = int(value[1:])
            if number > MAX_PARAMETERS:
                out.append(value)
                continue
            while len(names) < number:
                names.append(f"${len(names) + 1}")
            out.append(value)
            continue
        if value == "?":
            name = f"p{len(names) + 1}"
        elif value.startswith("%(") and value.endswith(")s"):
            name = value[2:-2]
        elif value.startswith(":"):
            name = value[1:]
        else:  # other placeholder spellings (@name) are left for PostgreSQL to reject
            out.append(value)
            continue
        if value == "?" or name not in names:
            names.append(name)
            out.append(f"${len(names)}")
        else:
            out.append(f"${names.index(name) + 1}")
    return "".join(out), tuple(names)


class _Tables(Visitor):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[str] = []
        self.ctes: set[str] = set()

    def visit_CommonTableExpr(self, ancestors: object, node: ast.CommonTableExpr) -> None:
        if node.ctename:
            self.ctes.add(node.ctename)

    def visit_RangeVar(self, ancestors: object, node: ast.RangeVar) -> None:
        if node.relname not in self.tables:
            self.tables.append(node.relname)


def statement_tables(statement: Any) -> tuple[str, ...]:
    """The tables a parsed statement (pglast's) reads, in order, each once; its CTEs' names left out."""
    visitor = _Tables()
    visitor(statement)
    return tuple(t for t in visitor.tables if t not in visitor.ctes)


def parse_queries(
    text: str, *, document: str, line_offset: int = 0, base_offset: int = 0
) -> tuple[tuple[NamedQuery, ...], list[Problem]]:
    """Parse the `-- name:` sections of a block. A section that does not parse is a problem."""
    _, sections = split_named(text)
    lines = LineIndex(text)
    queries: list[NamedQuery] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for name, body, offset in sections:
        sql = body.strip()
        start = offset + (len(body) - len(body.lstrip()))
        line, column = lines.position(start)
        where = SourceRef(document, line + line_offset, column)
        if name in seen:
            problems.append(
                Problem(
                    "query.duplicate-name",
                    f"query {name} is named twice; the later one wins",
                    where,
                    "Give each query its own name.",
                )
            )
        seen.add(name)
        if not sql:
            problems.append(
                Problem(
                    "query.empty",
                    f"query {name} has no SQL under its name",
                    where,
                    "Write the statement under the `-- name:` line.",
                )
            )
            continue
        normalized, parameters = normalize_parameters(sql)
        try:
            statements = pglast.parse_sql(normalized)
        except ParseError as exc:
            message, index = (*exc.args, None)[:2]
            error_line, error_column = LineIndex(normalized).position(
                index if isinstance(index, int) else len(normalized)
            )
            problems.append(
                Problem(
                    code="query.syntax-error",
                    message=f"query {name}: SQL syntax error at line {line + line_offset + error_line - 1}: {message}",
                    source=SourceRef(document, line + line_offset + error_line - 1, error_column),
                    fix="Correct the statement; parameters may be written :name, %(name)s, ? or $1.",
                )
            )
            continue
        if len(statements) != 1:
            problems.append(
                Problem(
                    "query.several-statements",
                    f"query {name} holds {len(statements)} statements; only the first is used",
                    where,
                    "Give each statement its own `-- name:` line.",
                )
            )
        queries.append(
            NamedQuery(
                name=name,
                sql=sql.rstrip().rstrip(";"),
                normalized_sql=normalized.rstrip().rstrip(";"),
                parameters=parameters,
                tables=statement_tables(statements[0]),
                source=where,
            )
        )
    latest = {q.name: q for q in queries}
    return tuple(latest.values()), problems
