"""Which pasted SQL the query-plan analysis may hand to the sandbox, decided by PostgreSQL's own
parser (pglast) and allow-lists, never by looking at the text.

A query passes when it is one statement; a `SELECT` (`WITH ... SELECT`, `TABLE`, `VALUES`) or an
`INSERT`, `UPDATE` or `DELETE`; built only of the syntax listed in `_NODES`; reading only the
design's own tables (or its CTEs) by unqualified name; calling only the functions in
`FUNCTIONS`; casting only to ordinary types; and asking nothing of the server's state (no
`current_user`). What writes (a data-modifying statement or CTE, `FOR UPDATE`) is `kind="write"`:
run only under `EXPLAIN ANALYZE` inside a transaction that is always rolled back. Anything else
is refused with the reason, naming what was found, and is never executed.

Pure: the SQL in, a verdict out. The sandbox's own roles (apps/sandbox) refuse the dangerous
functions again at the server, whatever passes here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pglast
from pglast import ast
from pglast.enums import SQLValueFunctionOp
from pglast.parser import ParseError
from pglast.visitors import Visitor

from apps.designs.engine.expressions import nested_growth
from apps.designs.engine.queries import MAX_PARAMETERS, normalize_parameters

# Functions a design's queries call that read nothing but their arguments (no other object, no
# file, no setting, no sleep): aggregates, windows, text, numbers, dates, JSON, arrays.
FUNCTIONS = frozenset(
    {
        # aggregates and windows
        "count", "sum", "avg", "min", "max", "bool_and", "bool_or", "every", "array_agg", "string_agg",
        "json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg", "percentile_cont", "percentile_disc",
        "mode", "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp",
        "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
        "first_value", "last_value", "nth_value",
        # conditionals and comparisons written as calls
        "coalesce", "nullif", "greatest", "least",
        # text
        "lower", "upper", "length", "char_length", "character_length", "octet_length", "substr", "substring",
        "position", "strpos", "trim", "btrim", "ltrim", "rtrim", "left", "right", "replace",
        "concat", "concat_ws", "split_part", "starts_with", "initcap", "reverse", "md5",
        "regexp_replace", "regexp_match", "regexp_matches", "regexp_like", "translate", "unaccent",
        "to_tsvector", "to_tsquery", "plainto_tsquery", "websearch_to_tsquery", "phraseto_tsquery",
        "ts_rank", "ts_rank_cd", "similarity",
        # numbers
        "abs", "ceil", "ceiling", "floor", "round", "trunc", "mod", "power", "sqrt", "sign", "div",
        # dates and times
        "now", "date_trunc", "date_part", "extract", "age", "make_date", "make_interval", "make_timestamp",
        "make_timestamptz", "to_char", "to_date", "to_timestamp", "to_number", "date_bin", "timezone",
        "clock_timestamp", "statement_timestamp", "transaction_timestamp", "isfinite", "justify_days",
        "justify_hours", "justify_interval",
        # JSON
        "jsonb_build_object", "json_build_object", "jsonb_build_array", "json_build_array", "to_jsonb", "to_json",
        "jsonb_extract_path", "jsonb_extract_path_text", "json_extract_path", "json_extract_path_text",
        "jsonb_array_length", "json_array_length", "jsonb_typeof", "json_typeof", "jsonb_set", "jsonb_strip_nulls",
        "jsonb_array_elements", "jsonb_array_elements_text", "jsonb_each", "jsonb_each_text", "jsonb_object_keys",
        "jsonb_path_exists", "jsonb_path_query", "jsonb_path_match",
        # arrays
        "array_length", "cardinality", "array_position", "array_positions", "array_remove", "array_append",
        "array_prepend", "array_cat", "array_to_string", "string_to_array", "unnest",
        # identifiers the database generates
        "gen_random_uuid",
    }
)  # fmt: skip
# (Not listed, though they read only their arguments: lpad, rpad, repeat and format build a
# string as long as a number asks, a gigabyte from one call.)
# Only PostgreSQL's own catalog may qualify a function's name (`pg_catalog.lower`).
_FUNCTION_SCHEMAS = frozenset({"pg_catalog"})

# Types whose input looks objects up in the catalogs (`'pg_authid'::regclass` reads them).
_CATALOG_TYPES = frozenset(
    {
        "regclass", "regproc", "regprocedure", "regoper", "regoperator", "regtype", "regrole",
        "regnamespace", "regconfig", "regdictionary", "regcollation", "pg_lsn", "txid_snapshot",
        "pg_snapshot",
    }
)  # fmt: skip

# The types a query may cast to: PostgreSQL's own, spelled as its grammar prints them (an
# unqualified name is otherwise looked up on the search path, where a domain could be).
_CAST_TYPES = frozenset(
    {
        "int2", "int4", "int8", "smallint", "integer", "bigint", "numeric", "decimal", "float4", "float8",
        "real", "double precision", "text", "varchar", "bpchar", "char", "name", "bool", "boolean", "date",
        "time", "timetz", "timestamp", "timestamptz", "interval", "uuid", "json", "jsonb", "bytea",
        "inet", "cidr", "tsvector", "tsquery", "money", "bit", "varbit",
    }
)  # fmt: skip

# SQL value functions that read the session's or the server's state, not the clock.
_STATE = frozenset(
    {
        SQLValueFunctionOp.SVFOP_CURRENT_ROLE,
        SQLValueFunctionOp.SVFOP_CURRENT_USER,
        SQLValueFunctionOp.SVFOP_USER,
        SQLValueFunctionOp.SVFOP_SESSION_USER,
        SQLValueFunctionOp.SVFOP_CURRENT_CATALOG,
        SQLValueFunctionOp.SVFOP_CURRENT_SCHEMA,
    }
)

# The syntax a query may be built of: anything else (COPY, DO, SET, CREATE, GRANT, LISTEN,
# EXPLAIN, transaction control, TABLESAMPLE, XML functions...) is refused by its node's name.
_NODES = frozenset(
    {
        "SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "ReturningClause", "ReturningExpr",
        "ResTarget", "RangeVar", "Alias", "ColumnRef", "A_Star", "A_Expr", "A_Const", "ParamRef",
        "String", "Integer", "Float", "Boolean", "BitString", "BoolExpr", "NullTest", "BooleanTest",
        "SubLink", "FuncCall", "TypeCast", "TypeName", "SortBy", "WithClause", "CommonTableExpr",
        "JoinExpr", "RangeSubselect", "RangeFunction", "CaseExpr", "CaseWhen", "CoalesceExpr",
        "MinMaxExpr", "A_Indirection", "A_Indices", "A_ArrayExpr", "RowExpr", "WindowDef",
        "SQLValueFunction", "OnConflictClause", "InferClause", "IndexElem", "MultiAssignRef",
        "LockingClause", "CollateClause", "GroupingSet", "SetToDefault", "NamedArgExpr", "ColumnDef",
    }
)  # fmt: skip
_WRITES = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt)


@dataclass(frozen=True)
class Verdict:
    """What may be done with a pasted query: `kind` "read" (run under EXPLAIN ANALYZE as it is),
    "write" (only inside a transaction that is always rolled back) or "" (refused, never run),
    with the reason; `sql` is the statement with its parameters written `$1, $2...`, named in
    `parameters` in that order; `tables` the design's tables it reads, sorted."""

    kind: str
    reason: str
    sql: str
    parameters: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return bool(self.kind)


class _Inspect(Visitor):  # type: ignore[misc]
    """Every node of the statement: the first one outside the allow-lists, the tables it reads,
    the names its CTEs give, and whether anything in it writes or locks rows."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = ""
        self.tables: list[str] = []
        self.ctes: set[str] = set()
        self.writes = False

    def visit(self, ancestors: Any, node: Any) -> None:
        if self.refused:
            return
        name = type(node).__name__
        if name not in _NODES:
            self.refused = f"{_describe(name)} is not allowed in a query the plan analysis runs"
        elif isinstance(node, ast.FuncCall):
            self.refused = _function_refused(node)
        elif isinstance(node, ast.TypeCast):
            self.refused = _cast_refused(node)
        elif isinstance(node, ast.SQLValueFunction) and node.op in _STATE:
            self.refused = "it reads the session's user, catalog or schema, which the plan analysis never runs"
        elif isinstance(node, ast.A_Expr) and node.name and len(node.name) > 1:
            self.refused = "an operator qualified by a schema (OPERATOR(schema.op)) is not allowed"
        elif isinstance(node, ast.RangeVar):
            if node.relname.startswith("pg_"):
                # PostgreSQL looks pg_ names up in its catalog first, whatever a CTE or the
                # design calls itself.
                self.refused = f"{node.relname}: a pg_ name reads PostgreSQL's catalog"
            elif node.schemaname or node.catalogname:
                self.refused = f"{_dotted(node.catalogname, node.schemaname, node.relname)}: only the design's own tables, unqualified, may be read"
            else:
                self.tables.append(node.relname)
        elif isinstance(node, ast.ParamRef) and node.number > MAX_PARAMETERS:
            self.refused = f"parameter ${node.number} is past the {MAX_PARAMETERS} PostgreSQL can bind"
        elif isinstance(node, ast.CommonTableExpr):
            if node.ctename.startswith("pg_"):
                self.refused = f"{node.ctename}: a CTE may not take a pg_ name (PostgreSQL's catalog has them)"
            self.ctes.add(node.ctename)
        elif isinstance(node, ast.SelectStmt) and node.intoClause is not None:
            self.refused = "SELECT ... INTO creates a table"
        elif isinstance(node, (ast.LockingClause, *_WRITES)):
            self.writes = True


def check_query(sql: str, *, tables: Iterable[str]) -> Verdict:
    """Whether the pasted `sql` may run in the sandbox, and how (see the module docstring).
    `tables` are the design's table names; a query reading any other relation is refused."""
    if "\x00" in sql:  # the parser stops at it; what follows would still reach the server
        return Verdict("", "it holds a NUL character, which no SQL statement may", sql.replace("\x00", "\\x00"))
    statement_sql, parameters = normalize_parameters(sql)
    try:
        statements = pglast.parse_sql(statement_sql)
    except ParseError as exc:
        return Verdict("", f"PostgreSQL cannot parse it: {exc.args[0] if exc.args else exc}", statement_sql)
    if len(statements) != 1:
        found = len(statements)
        return Verdict("", f"it holds {found} statements; a query is one statement", statement_sql)
    statement = statements[0].stmt
    if not isinstance(statement, ast.SelectStmt | ast.InsertStmt | ast.UpdateStmt | ast.DeleteStmt):
        kind = _describe(type(statement).__name__)
        return Verdict("", f"{kind} is not a query: only SELECT, INSERT, UPDATE and DELETE are analysed", statement_sql)
    seen = _Inspect()
    seen(statement)
    if seen.refused:
        return Verdict("", seen.refused, statement_sql, parameters)
    known = set(tables)
    unknown = sorted({t for t in seen.tables if t not in known and t not in seen.ctes})
    if unknown:
        return Verdict(
            "", f"it reads {', '.join(unknown)}, which the design has no table of", statement_sql, parameters
        )
    kind = "write" if seen.writes else "read"
    read = tuple(sorted({t for t in seen.tables if t in known}))
    return Verdict(kind, "", statement_sql, parameters, read)


def _function_refused(node: ast.FuncCall) -> str:
    names = [part.sval for part in node.funcname]
    *schema, function = names
    if schema and (len(schema) > 1 or schema[0] not in _FUNCTION_SCHEMAS):
        return f"{'.'.join(names)}() is a function outside PostgreSQL's own catalog"
    if function not in FUNCTIONS:
        return f"{function}() is not on the list of functions the plan analysis calls"
    if (nested := nested_growth(node)) is not None:
        return f"{nested} nests text functions whose result grows with each level, without bound"
    return ""


def _cast_refused(node: ast.TypeCast) -> str:
    names = [part.sval for part in node.typeName.names]
    if names[-1] in _CATALOG_TYPES:
        return f"a cast to {names[-1]} looks objects up in the catalogs"
    if len(names) > 1 and names[0] != "pg_catalog":
        return f"{'.'.join(names)} is a type outside PostgreSQL's own catalog"
    if names[-1] not in _CAST_TYPES:
        return f"a cast to {names[-1]} is not on the list of types the plan analysis casts to"
    return ""


def _dotted(*parts: str | None) -> str:
    return ".".join(p for p in parts if p)


def _describe(node_name: str) -> str:
    """A node's name as a reader knows the statement: `CopyStmt` -> `COPY`."""
    words = {
        "CopyStmt": "COPY",
        "DoStmt": "a DO block",
        "CreateFunctionStmt": "CREATE FUNCTION",
        "CreateStmt": "CREATE TABLE",
        "CreateTableAsStmt": "CREATE TABLE AS",
        "DropStmt": "DROP",
        "TruncateStmt": "TRUNCATE",
        "VariableSetStmt": "SET",
        "VariableShowStmt": "SHOW",
        "TransactionStmt": "transaction control",
        "ExplainStmt": "EXPLAIN",
        "GrantStmt": "GRANT",
        "GrantRoleStmt": "GRANT",
        "AlterTableStmt": "ALTER TABLE",
        "IndexStmt": "CREATE INDEX",
        "NotifyStmt": "NOTIFY",
        "ListenStmt": "LISTEN",
        "LockStmt": "LOCK",
        "CallStmt": "CALL",
        "PrepareStmt": "PREPARE",
        "ExecuteStmt": "EXECUTE",
        "RangeTableSample": "TABLESAMPLE",
        "XmlExpr": "an XML function",
        "XmlSerialize": "XMLSERIALIZE",
        "RangeTableFunc": "XMLTABLE",
        "JsonTable": "JSON_TABLE",
    }
    return words.get(node_name, node_name)
