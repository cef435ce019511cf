"""Candidate indexes for one query, read from its parse tree: the columns it compares with a value
(equality first), the ones it compares by range, its join keys, and its order; a partial index
where it selects a literal value of a column; an expression index where it compares a function
of a column. Candidates only: each must be proven by the plan before it is advised.

Pure: an allow-listed statement (allowlist.check_query passed it) and the design's tables in,
candidates out. Every name in a candidate is a column the design declares (or a function from
the allow-list over one), so the statement built from it holds nothing else from the paste.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pglast
from pglast import ast
from pglast.enums import A_Expr_Kind, SortByDir

from apps.designs.engine.identifiers import written_identifier as _quoted

# The functions of a column an expression index is offered for: case-insensitive lookups.
_INDEXABLE = frozenset({"lower", "upper"})

_RANGE_OPS = frozenset({"<", ">", "<=", ">="})


@dataclass(frozen=True)
class Candidate:
    table: str
    columns: tuple[str, ...]  # a column, `lower(email)`, or `created_at DESC`
    where: str = ""  # a partial index's predicate (`status = 'pending'`), "" for a full index
    why: str = ""
    include: tuple[str, ...] = ()  # covering columns (INCLUDE): the query reads them from the index alone

    @property
    def sql(self) -> str:
        """The CREATE INDEX CONCURRENTLY statement (names quoted where they need it), checked to be
        exactly that: one index on the table (`index_statement`)."""
        columns = ", ".join(self.columns)
        include = f" INCLUDE ({', '.join(self.include)})" if self.include else ""
        where = f" WHERE {self.where}" if self.where else ""
        return index_statement(
            f"CREATE INDEX CONCURRENTLY ON {_quoted(self.table)} ({columns}){include}{where};", self.table
        )


class NotAnIndexError(ValueError):
    """A candidate's statement that is not one CREATE INDEX on its table: never run, never advised."""


def index_statement(statement: str, table: str) -> str:
    """`statement`, when PostgreSQL's parser reads it as exactly one CREATE INDEX on `table`, with
    no schema; raises NotAnIndexError otherwise. The last check before a candidate is run in the
    sandbox or written into the migration the team takes away: whatever built it, nothing else
    gets through."""
    try:
        parsed = pglast.parse_sql(statement)
    except pglast.parser.ParseError as exc:
        raise NotAnIndexError(f"not a statement PostgreSQL can parse: {exc}") from None
    if len(parsed) != 1 or not isinstance(parsed[0].stmt, ast.IndexStmt):
        raise NotAnIndexError(f"not one CREATE INDEX: {len(parsed)} statement(s)")
    relation = parsed[0].stmt.relation
    if relation is None or relation.relname != table or relation.schemaname:
        raise NotAnIndexError(f"not an index on {table}")
    return statement


@dataclass
class _Access:
    """What one query asks of one table."""

    equal: list[str] = field(default_factory=list)
    ranged: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    joined: list[str] = field(default_factory=list)  # join keys: looked up by the other side's value
    literal: list[tuple[str, str]] = field(default_factory=list)  # (column, its literal value)
    read: set[str] | None = field(default_factory=set)  # every column it names; None: all (`*`)


def index_candidates(
    sql: str,
    *,
    columns: Mapping[str, frozenset[str]],
    existing: Mapping[str, list[tuple[str, ...]]] | None = None,
) -> list[Candidate]:
    """The candidate indexes of `sql` (one allow-listed statement with `$n` parameters) over the
    design's tables (`columns`: table -> its column names), each table's in a fixed order; none
    that an existing full index (`existing`: table -> each index's columns, the primary key's
    among them) already leads with."""
    statement = pglast.parse_sql(sql)[0].stmt
    found: list[Candidate] = []
    for select in _selects(statement):
        aliases = _aliases(select, columns)
        access: dict[str, _Access] = {}
        for conjunct in _conjuncts(select.whereClause):
            _read_condition(conjunct, aliases, columns, access)
        for join in _joins(select.fromClause):
            for conjunct in _conjuncts(join.quals):
                _read_join(conjunct, aliases, columns, access)
        for sort in select.sortClause or ():
            column = _column(sort.node, aliases, columns)
            if column is not None:
                descending = " DESC" if sort.sortby_dir == SortByDir.SORTBY_DESC else ""
                access.setdefault(column[0], _Access()).order.append(_quoted(column[1]) + descending)
        _read_columns(select, aliases, columns, access)
        for table in sorted(access):
            found += _for_table(table, access[table])
    served = existing or {}
    unique: dict[tuple[str, tuple[str, ...], str, tuple[str, ...]], Candidate] = {}
    for candidate in found:
        # A key an existing index already leads with needs nothing more: not even a covering
        # copy of it (a lookup by key reads a row or a few; sparing those is not worth an index).
        covered = not candidate.where and any(
            key[: len(candidate.columns)] == candidate.columns for key in served.get(candidate.table, ())
        )
        if not covered:
            unique.setdefault((candidate.table, candidate.columns, candidate.where, candidate.include), candidate)
    return list(unique.values())


_MAX_INCLUDE = 4  # covering columns offered at most: past that, the index is a second copy of the table


def _read_columns(
    select: ast.SelectStmt,
    aliases: Mapping[str, str],
    columns: Mapping[str, frozenset[str]],
    access: dict[str, _Access],
) -> None:
    """Every column of each table the SELECT names (its list, conditions, joins, order); a
    table it reads whole (`*`, `t.*`) reads all."""
    stack: list[Any] = [select.targetList, select.whereClause, select.sortClause, select.groupClause]
    stack += [join.quals for join in _joins(select.fromClause)]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.ColumnRef):
            fields = node.fields or ()
            if fields and isinstance(fields[-1], ast.A_Star):
                named = [f.sval for f in fields[:-1] if isinstance(f, ast.String)]
                for alias, table in aliases.items():
                    if not named or named == [alias]:
                        access.setdefault(table, _Access()).read = None
                continue
            column = _column(node, aliases, columns)
            if column is not None:
                table_access = access.setdefault(column[0], _Access())
                if table_access.read is not None:
                    table_access.read.add(column[1])
        elif isinstance(node, ast.SelectStmt):
            continue  # a subquery's columns are its own
        elif isinstance(node, ast.Node):
            stack.extend(getattr(node, attribute) for attribute in node)
        elif isinstance(node, tuple | list):
            stack.extend(node)


def _for_table(table: str, access: _Access) -> list[Candidate]:
    equal = list(dict.fromkeys(access.equal))
    found = []
    if equal or access.ranged:
        found.append(Candidate(table, (*equal, *access.ranged[:1]), why="the columns it compares, equality first"))
    if access.order:
        found.append(
            Candidate(
                table,
                (*equal, *access.order),
                why="its comparisons, then its order: rows read in order, stopping at the limit",
            )
        )
    key = (*equal, *access.order) if access.order else (*equal, *access.ranged[:1])
    named = {part.removesuffix(" DESC") for part in key}
    covering = [column for column in sorted(access.read or ()) if _quoted(column) not in named]
    if key and access.read is not None and 0 < len(covering) <= _MAX_INCLUDE:
        found.append(
            Candidate(
                table,
                key,
                include=tuple(_quoted(c) for c in covering),
                why="the same key covering the other columns it reads: answered from the index alone",
            )
        )
    for column in dict.fromkeys(access.joined):
        found.append(Candidate(table, (column,), why="a join key: each row of the other side looks it up"))
    for column, value in access.literal:
        rest = [c for c in equal if c != _quoted(column)]
        key = (*rest, *access.order) or (*access.ranged[:1],) or ("id",)
        found.append(
            Candidate(
                table,
                tuple(key),
                where=f"{_quoted(column)} = {_literal(value)}",
                why=f"a partial index over the rows with {column} = {value!r}, a value it selects by",
            )
        )
    return [c for c in found if c.columns]


def _selects(statement: Any) -> Iterator[ast.SelectStmt]:
    """The SELECTs of a statement: itself, its CTEs' and its set operations' arms."""
    stack = [statement]
    while stack:
        node = stack.pop()
        if not isinstance(node, ast.SelectStmt):
            continue
        if node.withClause is not None:
            stack += [cte.ctequery for cte in node.withClause.ctes or ()]
        if node.larg is not None or node.rarg is not None:
            stack += [node.larg, node.rarg]
            continue
        yield node


def _aliases(select: ast.SelectStmt, columns: Mapping[str, frozenset[str]]) -> dict[str, str]:
    """Alias (or table name) -> the design's table, for the tables this SELECT reads."""
    found: dict[str, str] = {}
    stack = list(select.fromClause or ())
    while stack:
        node = stack.pop()
        if isinstance(node, ast.JoinExpr):
            stack += [node.larg, node.rarg]
        elif isinstance(node, ast.RangeVar) and node.relname in columns:
            found[node.alias.aliasname if node.alias else node.relname] = node.relname
    return found


def _joins(from_clause: Any) -> Iterator[ast.JoinExpr]:
    stack = list(from_clause or ())
    while stack:
        node = stack.pop()
        if isinstance(node, ast.JoinExpr):
            yield node
            stack += [node.larg, node.rarg]


def _conjuncts(node: Any) -> list[Any]:
    """The ANDed conditions of a WHERE or ON (an OR is one condition, read no further)."""
    if node is None:
        return []
    if isinstance(node, ast.BoolExpr) and node.boolop == 0:  # AND
        return [c for arg in node.args for c in _conjuncts(arg)]
    return [node]


def _column(node: Any, aliases: Mapping[str, str], columns: Mapping[str, frozenset[str]]) -> tuple[str, str] | None:
    """(table, column) of a column reference to one of the design's columns; None otherwise."""
    if not isinstance(node, ast.ColumnRef):
        return None
    names = [f.sval for f in node.fields if isinstance(f, ast.String)]
    if len(names) == 2 and names[0] in aliases:
        table = aliases[names[0]]
        return (table, names[1]) if names[1] in columns[table] else None
    if len(names) == 1:
        owners = [t for t in aliases.values() if names[0] in columns[t]]
        return (owners[0], names[0]) if len(set(owners)) == 1 else None
    return None


def _operand(node: Any, aliases: Mapping[str, str], columns: Mapping[str, frozenset[str]]) -> tuple[str, str] | None:
    """(table, key text) of a column or an allow-listed one-argument function of one."""
    column = _column(node, aliases, columns)
    if column is not None:
        return column[0], _quoted(column[1])
    if isinstance(node, ast.FuncCall) and len(node.args or ()) == 1 and len(node.funcname) == 1:
        function = node.funcname[0].sval
        argument = node.args[0]
        if isinstance(argument, ast.TypeCast):  # `upper(email::text)`, as Django writes iexact
            argument = argument.arg
        inner = _column(argument, aliases, columns)
        if inner is not None and function in _INDEXABLE:
            return inner[0], f"{function}({_quoted(inner[1])})"
    return None


def _is_value(node: Any) -> bool:
    """A parameter, a constant, or an allow-listed function of those (`lower($1)`, `now()`)."""
    if isinstance(node, ast.ParamRef | ast.A_Const):
        return True
    if isinstance(node, ast.TypeCast):
        return _is_value(node.arg)
    if isinstance(node, ast.FuncCall):
        return all(_is_value(a) for a in node.args or ())
    if isinstance(node, ast.A_Expr):
        return _is_value(node.lexpr) and _is_value(node.rexpr)
    return isinstance(node, ast.SQLValueFunction)


def _read_condition(node: Any, aliases, columns, access: dict[str, _Access]) -> None:
    if isinstance(node, ast.ColumnRef):  # `WHERE p.active`: a boolean column, equal to true
        column = _column(node, aliases, columns)
        if column is not None:
            access.setdefault(column[0], _Access()).equal.append(_quoted(column[1]))
        return
    if not isinstance(node, ast.A_Expr):
        return
    operator = node.name[0].sval if node.name and len(node.name) == 1 else ""
    if node.kind == A_Expr_Kind.AEXPR_OP and operator in {"=", *_RANGE_OPS}:
        for side, other in ((node.lexpr, node.rexpr), (node.rexpr, node.lexpr)):
            found = _operand(side, aliases, columns)
            if found is None or not _is_value(other):
                continue
            table = access.setdefault(found[0], _Access())
            if operator == "=":
                table.equal.append(found[1])
                if isinstance(other, ast.A_Const) and isinstance(other.val, ast.String) and found[1].isidentifier():
                    table.literal.append((found[1], other.val.sval))
            else:
                table.ranged.append(found[1])
            return
    elif node.kind == A_Expr_Kind.AEXPR_IN and operator == "=":
        found = _operand(node.lexpr, aliases, columns)
        if found is not None:
            access.setdefault(found[0], _Access()).equal.append(found[1])
    elif node.kind in {A_Expr_Kind.AEXPR_BETWEEN, A_Expr_Kind.AEXPR_BETWEEN_SYM}:
        found = _operand(node.lexpr, aliases, columns)
        if found is not None:
            access.setdefault(found[0], _Access()).ranged.append(found[1])


def _read_join(node: Any, aliases, columns, access: dict[str, _Access]) -> None:
    """`a.x = b.y`: each side is looked up by the other's value in a nested loop."""
    if not (isinstance(node, ast.A_Expr) and node.kind == A_Expr_Kind.AEXPR_OP and node.name[0].sval == "="):
        return
    left, right = _column(node.lexpr, aliases, columns), _column(node.rexpr, aliases, columns)
    if left is None or right is None or left[0] == right[0]:
        return
    for table, column in (left, right):
        access.setdefault(table, _Access()).joined.append(_quoted(column))


def _literal(value: str) -> str:
    """A string constant read the same whatever standard_conforming_strings says: an E'' string
    with its backslashes and quotes escaped."""
    if "\\" not in value:
        return "'" + value.replace("'", "''") + "'"
    return "E'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


@dataclass(frozen=True)
class Bound:
    """What a query's `$n` parameter is compared with, for binding it to a value of the data."""

    number: int
    role: str  # equal, low, high (a range's ends), offset, limit, or other
    table: str = ""
    column: str = ""
    function: str = ""  # lower or upper when the comparison is of lower(column) with lower($n)


def parameter_columns(sql: str, *, columns: Mapping[str, frozenset[str]]) -> dict[int, Bound]:
    """Each `$n` of `sql` (one allow-listed statement) that is compared with one of the design's
    columns (`col = $1`, `lower(col) = lower($1)`, `col BETWEEN $2 AND $3`, `col >= $4`) or sets
    the page (`LIMIT $5`, `OFFSET $6`); a parameter used otherwise is left out."""
    statement = pglast.parse_sql(sql)[0].stmt
    found: dict[int, Bound] = {}
    selects = list(_selects(statement))
    if isinstance(statement, ast.UpdateStmt | ast.DeleteStmt) and statement.relation is not None:
        relation = statement.relation
        table = relation.relname
        if table in columns:
            name = relation.alias.aliasname if relation.alias else table
            _bind_conditions(statement.whereClause, {name: table}, columns, found)
    for select in selects:
        aliases = _aliases(select, columns)
        _bind_conditions(select.whereClause, aliases, columns, found)
        for join in _joins(select.fromClause):
            _bind_conditions(join.quals, aliases, columns, found)
        for node, role in ((select.limitOffset, "offset"), (select.limitCount, "limit")):
            if isinstance(node, ast.ParamRef):
                found.setdefault(node.number, Bound(node.number, role))
    return found


def _parameter(node: Any) -> tuple[int, str] | None:
    """($n, the function around it) of `$n`, `$n::type` or `lower($n)`."""
    if isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.ParamRef):
        return node.number, ""
    if isinstance(node, ast.FuncCall) and len(node.args or ()) == 1 and len(node.funcname) == 1:
        inner = _parameter(node.args[0])
        if inner is not None and node.funcname[0].sval in _INDEXABLE:
            return inner[0], node.funcname[0].sval
    return None


def _bound_column(
    node: Any, aliases: Mapping[str, str], columns: Mapping[str, frozenset[str]]
) -> tuple[str, str, str] | None:
    """(table, column, function) of a column, a cast of one, or lower/upper of one."""
    if isinstance(node, ast.TypeCast):
        node = node.arg
    column = _column(node, aliases, columns)
    if column is not None:
        return column[0], column[1], ""
    if isinstance(node, ast.FuncCall) and len(node.args or ()) == 1 and len(node.funcname) == 1:
        inner = _bound_column(node.args[0], aliases, columns)
        if inner is not None and node.funcname[0].sval in _INDEXABLE:
            return inner[0], inner[1], node.funcname[0].sval
    return None


def _bind_conditions(
    where: Any, aliases: Mapping[str, str], columns: Mapping[str, frozenset[str]], found: dict[int, Bound]
) -> None:
    for node in _conjuncts(where):
        if not isinstance(node, ast.A_Expr):
            continue
        operator = node.name[0].sval if node.name and len(node.name) == 1 else ""
        if node.kind == A_Expr_Kind.AEXPR_OP and operator in {"=", *_RANGE_OPS}:
            for side, other in ((node.lexpr, node.rexpr), (node.rexpr, node.lexpr)):
                column, parameter = _bound_column(side, aliases, columns), _parameter(other)
                if column is None or parameter is None:
                    continue
                role = "equal" if operator == "=" else "low" if operator in {">", ">="} else "high"
                if side is node.rexpr and role != "equal":
                    role = "high" if role == "low" else "low"  # `$1 <= col`: the parameter is the low end
                found.setdefault(parameter[0], Bound(parameter[0], role, column[0], column[1], column[2]))
                break
        elif node.kind in {A_Expr_Kind.AEXPR_BETWEEN, A_Expr_Kind.AEXPR_BETWEEN_SYM}:
            column = _bound_column(node.lexpr, aliases, columns)
            ends = node.rexpr if isinstance(node.rexpr, list | tuple) else ()
            if column is None or len(ends) != 2:
                continue
            for end, role in zip(ends, ("low", "high"), strict=True):
                parameter = _parameter(end)
                if parameter is not None:
                    found.setdefault(parameter[0], Bound(parameter[0], role, column[0], column[1], column[2]))
