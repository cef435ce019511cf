"""The allow-list that SQL expressions from a paste pass before they reach Django or the sandbox.

DEFAULT, CHECK, index and generated-column expressions are read by PostgreSQL's own grammar
(pglast) and kept only when every node is on the list: constants, column references, operators,
casts to built-in types, CASE, COALESCE, GREATEST/LEAST, NULLIF, arrays, the date and time
value functions, and the functions named below. Everything else (a subquery, any other function,
`current_user` and the like, a cast to `regclass`, a parameter, a collation) is refused with the
reason, so a pasted expression can neither read the server's state nor run a query.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pglast
from pglast import ast, enums
from pglast.parser import ParseError

from apps.designs.engine.identifiers import printable

MAX_EXPRESSION_DEPTH = 64

ALLOWED_FUNCTIONS = frozenset(
    {
        # time
        "now",
        "clock_timestamp",
        "statement_timestamp",
        "transaction_timestamp",
        "date_trunc",
        "date_part",
        "extract",
        "make_interval",
        "make_date",
        "timezone",
        "to_char",
        "to_date",
        "to_timestamp",
        "age",
        # identifiers and randomness
        "gen_random_uuid",
        "random",
        "md5",
        # text
        "lower",
        "upper",
        "initcap",
        "length",
        "char_length",
        "character_length",
        "octet_length",
        "btrim",
        "ltrim",
        "rtrim",
        "substring",
        "left",
        "right",
        "replace",
        "concat",
        "concat_ws",
        "split_part",
        "strpos",
        "starts_with",
        "position",
        # numbers
        "abs",
        "round",
        "floor",
        "ceil",
        "ceiling",
        "trunc",
        "mod",
        "sign",
        "power",
        # json and arrays
        "jsonb_typeof",
        "json_typeof",
        "jsonb_array_length",
        "array_length",
        "cardinality",
    }
)

# Text functions whose result can be many times as long as their arguments. One may not take
# another's result: `replace(replace(replace('x', 'x', 'xxxxxxxxxx'), ...), ...)` grows tenfold
# with each level, half a gigabyte from nine. (lpad, rpad, repeat and format, which build a string
# as long as a number asks, are not allowed at all.)
GROWING_FUNCTIONS = frozenset({"replace", "regexp_replace", "concat", "concat_ws", "translate"})


def _calls(node: Any) -> Iterator[ast.FuncCall]:
    """Every function call in a parse tree, iteratively."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.FuncCall):
            yield item
        if isinstance(item, ast.Node):
            stack.extend(getattr(item, attribute) for attribute in item)
        elif isinstance(item, tuple | list):
            stack.extend(item)


def nested_growth(call: ast.FuncCall) -> str | None:
    """`outer(inner())` when `call` is a growing text function with another among its arguments
    (at any depth), else None."""
    outer = call.funcname[-1].sval if call.funcname else ""
    if outer not in GROWING_FUNCTIONS:
        return None
    for inner in _calls(call.args):
        name = inner.funcname[-1].sval if inner.funcname else ""
        if name in GROWING_FUNCTIONS:
            return f"{outer}({name}())"
    return None


ALLOWED_TYPES = frozenset(
    {
        "int2",
        "int4",
        "int8",
        "smallint",
        "integer",
        "int",
        "bigint",
        "numeric",
        "decimal",
        "float4",
        "float8",
        "real",
        "double precision",
        "text",
        "varchar",
        "bpchar",
        "char",
        "character",
        "character varying",
        "bool",
        "boolean",
        "date",
        "time",
        "timetz",
        "timestamp",
        "timestamptz",
        "interval",
        "uuid",
        "json",
        "jsonb",
        "bytea",
        "inet",
        "cidr",
        "macaddr",
    }
)

ALLOWED_OPERATORS = frozenset(
    {
        "=",
        "<>",
        "!=",
        "<",
        ">",
        "<=",
        ">=",
        "+",
        "-",
        "*",
        "/",
        "%",
        "^",
        "||",
        "~",
        "~*",
        "!~",
        "!~*",
        "~~",
        "~~*",
        "!~~",
        "!~~*",
        "@>",
        "<@",
        "&&",
        "?",
        "?|",
        "?&",
        "->",
        "->>",
        "#>",
        "#>>",
        "&",
        "|",
        "#",
        "<<",
        ">>",
        "BETWEEN",
        "NOT BETWEEN",
        "BETWEEN SYMMETRIC",
        "NOT BETWEEN SYMMETRIC",
    }
)

_TIME_VALUES = frozenset(
    {
        enums.SQLValueFunctionOp.SVFOP_CURRENT_DATE,
        enums.SQLValueFunctionOp.SVFOP_CURRENT_TIME,
        enums.SQLValueFunctionOp.SVFOP_CURRENT_TIME_N,
        enums.SQLValueFunctionOp.SVFOP_CURRENT_TIMESTAMP,
        enums.SQLValueFunctionOp.SVFOP_CURRENT_TIMESTAMP_N,
        enums.SQLValueFunctionOp.SVFOP_LOCALTIME,
        enums.SQLValueFunctionOp.SVFOP_LOCALTIME_N,
        enums.SQLValueFunctionOp.SVFOP_LOCALTIMESTAMP,
        enums.SQLValueFunctionOp.SVFOP_LOCALTIMESTAMP_N,
    }
)
_SERVER_STATE = {
    enums.SQLValueFunctionOp.SVFOP_CURRENT_ROLE: "current_role",
    enums.SQLValueFunctionOp.SVFOP_CURRENT_USER: "current_user",
    enums.SQLValueFunctionOp.SVFOP_USER: "user",
    enums.SQLValueFunctionOp.SVFOP_SESSION_USER: "session_user",
    enums.SQLValueFunctionOp.SVFOP_CURRENT_CATALOG: "current_catalog",
    enums.SQLValueFunctionOp.SVFOP_CURRENT_SCHEMA: "current_schema",
}
_DESCRIBED = {
    "SubLink": "a subquery",
    "ParamRef": "a parameter",
    "CollateClause": "a COLLATE clause",
    "A_Indirection": "a field or subscript selection",
    "RowExpr": "a row constructor",
    "GroupingFunc": "a grouping function",
    "XmlExpr": "an XML expression",
}


class RefusedExpression(Exception):
    """Raised inside the walk; carries the reason shown to the user."""


def _plain_name(names: Any) -> str | None:
    """`lower` or `pg_catalog.lower` as `lower`; None for any other schema or a non-name."""
    parts = [getattr(n, "sval", None) for n in names or ()]
    if any(p is None for p in parts) or not parts or len(parts) > 2:
        return None
    if len(parts) == 2 and parts[0] != "pg_catalog":
        return None
    return str(parts[-1])


def _check(node: Any, columns: frozenset[str] | None, depth: int) -> None:
    if depth > MAX_EXPRESSION_DEPTH:
        raise RefusedExpression(f"it is nested more than {MAX_EXPRESSION_DEPTH} levels deep")
    if node is None or isinstance(node, ast.A_Const):
        return
    if isinstance(node, tuple | list):
        for item in node:
            _check(item, columns, depth + 1)
        return
    below = depth + 1
    if isinstance(node, ast.ColumnRef):
        fields = node.fields or ()
        if len(fields) != 1 or not isinstance(fields[0], ast.String):
            raise RefusedExpression("it refers to something other than a column of its own table")
        if columns is None:
            raise RefusedExpression(f"it refers to column `{printable(fields[0].sval)}`, which a default cannot")
        if fields[0].sval not in columns:
            raise RefusedExpression(f"it refers to `{printable(fields[0].sval)}`, which is not a column of the table")
    elif isinstance(node, ast.A_Expr):
        operator = _plain_name(node.name)
        if operator not in ALLOWED_OPERATORS:
            shown = ".".join(str(getattr(n, "sval", "?")) for n in node.name or ())
            raise RefusedExpression(f"it uses the operator `{printable(shown)}`, which is not on the allow-list")
        _check(node.lexpr, columns, below)
        _check(node.rexpr, columns, below)
    elif isinstance(node, ast.BoolExpr):
        _check(node.args, columns, below)
    elif isinstance(node, ast.NullTest | ast.BooleanTest):
        _check(node.arg, columns, below)
    elif isinstance(node, ast.TypeCast):
        type_name = node.typeName
        name = _plain_name(type_name.names) if type_name is not None else None
        if name is None or name.lower() not in ALLOWED_TYPES or type_name.pct_type or type_name.setof:
            shown = ".".join(str(getattr(n, "sval", "?")) for n in (type_name.names or ()) if type_name)
            raise RefusedExpression(f"it casts to `{printable(shown)}`, which is not a built-in type on the allow-list")
        _check(type_name.typmods, columns, below)
        _check(node.arg, columns, below)
    elif isinstance(node, ast.CaseExpr):
        _check(node.arg, columns, below)
        for when in node.args or ():
            _check(when.expr, columns, below)
            _check(when.result, columns, below)
        _check(node.defresult, columns, below)
    elif isinstance(node, ast.CoalesceExpr | ast.MinMaxExpr):
        _check(node.args, columns, below)
    elif isinstance(node, ast.A_ArrayExpr):
        _check(node.elements, columns, below)
    elif isinstance(node, ast.FuncCall):
        name = _plain_name(node.funcname)
        shown = ".".join(str(getattr(n, "sval", "?")) for n in node.funcname or ())
        if name is None or name not in ALLOWED_FUNCTIONS:
            raise RefusedExpression(f"it calls `{printable(shown)}()`, which is not on the allow-list of functions")
        if node.agg_star or node.agg_filter or node.over or node.agg_order or node.agg_distinct or node.func_variadic:
            raise RefusedExpression(f"it calls `{printable(shown)}()` as an aggregate, window or variadic call")
        if (nested := nested_growth(node)) is not None:
            raise RefusedExpression(f"it nests {nested}: text that grows with each level, without bound")
        _check(node.args, columns, below)
    elif isinstance(node, ast.SQLValueFunction):
        if node.op in _SERVER_STATE:
            raise RefusedExpression(f"it reads `{_SERVER_STATE[node.op]}`, the server's state")
        if node.op not in _TIME_VALUES:
            raise RefusedExpression("it reads a value of the server's state")
    else:
        kind = type(node).__name__
        raise RefusedExpression(f"it holds {_DESCRIBED.get(kind, kind)}, which is not on the allow-list")


def expression_error(node: Any, *, columns: frozenset[str] | None) -> str | None:
    """Why a parsed expression is refused, or None when every node is on the allow-list.

    `columns` are the names it may refer to (its table's columns); None where no column may be
    referred to (a DEFAULT).
    """
    try:
        _check(node, columns, 0)
    except RefusedExpression as exc:
        return str(exc)
    except RecursionError:
        return "it is nested too deeply"
    return None


def parse_expression(text: str) -> Any | None:
    """One SQL expression written as text (DBML) as pglast's node; None when it is not exactly one."""
    if "\x00" in text:
        return None
    try:
        statements = pglast.parse_sql(f"SELECT {text}")
    except (ParseError, RecursionError):
        return None
    if len(statements) != 1:
        return None
    stmt = statements[0].stmt
    if not isinstance(stmt, ast.SelectStmt) or len(stmt.targetList or ()) != 1:
        return None
    if stmt.fromClause or stmt.whereClause or stmt.groupClause or stmt.havingClause or stmt.sortClause:
        return None
    if stmt.limitCount or stmt.limitOffset or stmt.distinctClause or stmt.windowClause or stmt.valuesLists:
        return None
    target = stmt.targetList[0]
    if target.name:  # `SELECT 1 AS x`: not one expression as written
        return None
    return target.val
