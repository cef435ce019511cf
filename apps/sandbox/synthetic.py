"""Synthetic rows for a sandbox table, made inside PostgreSQL from the catalog.

One generator for every analyzer that needs rows (the migration preview's calibration, the query
plans): `fill_table` reads the table's columns and constraints and inserts `rows` rows with one
INSERT ... SELECT over generate_series, so no row crosses the wire. The rows keep:
- key, primary and unique columns (and `Shape.keys`) distinct: the row's number, 1 to `rows`,
  written the same way for the same type whatever the table, so row n's key is the same value
  everywhere (under checks, the rows kept are numbered after the filter, without gaps);
- foreign keys (the catalog's, and `Shape.references` for those not created yet) pointing at
  rows 1..N of their referenced table, drawn with skew: a few parents have many children, most
  have a few, and every value is a key the referenced table has (when it was filled here too;
  a referenced table still empty is taken to be filled later, in the same transaction under a
  deferred constraint, with as many rows). The columns of one catalog foreign key share their
  draw; `Shape.references` are drawn column by column. A foreign key that is also unique stays
  unique (row n references row n);
- enum-like columns (the literals of a CHECK naming them, `Shape.labels`, an enum type's labels)
  drawn with skew, so one label is frequent and the last ones rare;
- every CHECK of the table and those of `Shape.checks` (cross-column ones included): when the
  table has checks, rows are drawn from CHECK_TRIES candidates per wanted row and those the
  checks refuse are skipped; when too few remain, a ValueError says so;
- nullable columns partly NULL (`null_share`), except key, unique and foreign key columns a CHECK
  names; a NULL a CHECK refuses is skipped with the rows that fail it;
- dates and timestamps spread over 2021-2025, numbers spread with skew (small and positive under
  a CHECK), and in the same row a later ordered column (number, date, timestamp) holds a larger
  value than an earlier one (ends_at > starts_at, max_qty >= min_qty): the same draw for the row
  plus the column's position;
- text of varying lengths within the column's limit (hex: to_hex of hashes).
Times come from a hash, not in the rows' order: a table whose real rows are appended in time
order shows the planner a correlation (created_at with the heap) that these rows do not.
Deterministic: values come from hashes of g (hashint8extended), never random(), so the same call
gives the same rows. Names reach SQL only as identifiers, labels only as literals; the catalog's
CHECKs as PostgreSQL prints them (pg_get_expr), `Shape.checks` as pglast writes back their tree
(one expression, or the fill is refused). The caller runs ANALYZE afterwards.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import pglast
from pglast import ast
from pglast.parser import ParseError
from pglast.stream import RawStream
from psycopg import sql

from apps.sandbox.engine import SandboxSession


@dataclass(frozen=True, slots=True)
class Shape:
    """What a table's rows must keep beyond what the catalog says."""

    checks: tuple[str, ...] = ()  # CHECK expressions to keep (e.g. the ones a migration adds)
    keys: frozenset[str] = frozenset()  # columns that must hold distinct values
    # column -> (referenced table, how many rows it holds); for foreign keys not (yet) in the catalog
    references: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    # column -> allowed values (an OpenAPI enum); the first is the most frequent
    labels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


_NO_SHAPE = Shape()

# Candidate rows drawn per wanted row when the table has checks: those that fail them are skipped.
CHECK_TRIES = 4

_COLUMNS = """
SELECT c.column_name, c.data_type, c.character_maximum_length, c.numeric_precision, c.numeric_scale,
       NOT a.attnotnull, a.attgenerated <> '', a.attidentity = 'a', format_type(a.atttypid, a.atttypmod),
       CASE WHEN t.typtype = 'e'
            THEN ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
       END
  FROM information_schema.columns c
  JOIN pg_attribute a ON a.attrelid = %s::regclass AND a.attname = c.column_name
  JOIN pg_type t ON t.oid = a.atttypid
 WHERE c.table_schema = current_schema() AND c.table_name = %s
 ORDER BY c.ordinal_position
"""

# Key, unique and foreign key columns (with the foreign key's name and referenced table), and
# the CHECKs as PostgreSQL prints them.
_CONSTRAINED = """
SELECT a.attname, c.contype, '', c.conname, rn.nspname, r.relname
  FROM pg_constraint c
  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
  LEFT JOIN pg_class r ON r.oid = c.confrelid
  LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
 WHERE c.conrelid = %s::regclass AND c.contype IN ('p', 'u', 'f')
UNION ALL
SELECT a.attname, 'u', '', '', NULL, NULL
  FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
 WHERE i.indrelid = %s::regclass AND i.indisunique
UNION ALL
SELECT NULL, 'c', pg_get_expr(c.conbin, c.conrelid), c.conname, NULL, NULL
  FROM pg_constraint c
 WHERE c.conrelid = %s::regclass AND c.contype = 'c'
"""

_LITERAL = re.compile(r"'((?:[^']|'')*)'")
_NUMBERS = ("smallint", "integer", "bigint", "numeric", "real", "double precision")
_TEXTS = ("text", "character varying", "character", "USER-DEFINED")
_TIMES = ("date", "timestamp with time zone", "timestamp without time zone")
# How far numbers spread (from 1, with skew) by type; under a CHECK they stay small (1 to 100), as
# checks on numbers mostly bound them (quantity > 0, discount <= 100).
_SPREAD = {"smallint": 1_000, "integer": 100_000, "bigint": 1_000_000}
_SPREAD_OTHER = 10_000
_UNDER_CHECK = 100
_DAYS = 1_826  # 2021-01-01 to 2025-12-31
_LABEL_RESOLUTION = 1_000  # a label's share is counted in thousandths

_EPOCH_2021 = 1_609_459_200  # 2021-01-01 00:00 UTC, in seconds since 1970
_KEY_TEXT_MIN = 20  # a text key shorter than this is the row number alone

# Values by type from the row number g, for columns neither key nor ordered nor text. Hex text
# comes from to_hex of a hash: md5 costs ten times as much per row.
_OTHER = {
    "boolean": "{h} % 5 <> 0",
    "time without time zone": "time '00:00' + ({h} % 86400) * interval '1 second'",
    "interval": "({h} % 86400) * interval '1 second'",
    "uuid": "(lpad(to_hex(hashint8extended(g, {seed})), 16, '0') || lpad(to_hex(g::bigint), 16, '0'))::uuid",
    "jsonb": "jsonb_build_object('n', {h} % 1000)",
    "json": "json_build_object('n', {h} % 1000)",
    "bytea": "decode(lpad(to_hex(hashint8extended(g, {seed})), 16, '0'), 'hex')",
    "inet": "'10.0.0.0'::inet + {h} % 16777216",
    "ARRAY": "'{{}}'",
}


def _seed(*parts: str) -> int:
    """A stable seed from names (the same across runs and processes, unlike hash())."""
    return zlib.crc32("\x00".join(parts).encode())


def _hash(seed: int) -> str:
    """A deterministic non-negative integer below 2**31 from the row number g and the seed."""
    return f"(hashint8extended(g, {int(seed)}) & 2147483647)"


def _uniform(seed: int) -> str:
    """A deterministic uniform value in [0, 1) from g and the seed."""
    return f"({_hash(seed)}::float8 / 2147483648)"


def _key(data_type: str, length: int | None, number: str) -> str | None:
    """A key column's value for row `number` (an SQL integer expression): distinct per row, and
    the same for the same type whatever the table, so that a foreign key finds its referenced
    key. None for a type without one."""
    if data_type in ("smallint", "integer", "bigint", "numeric", "real", "double precision"):
        return f"({number})"
    if data_type in ("text", "character varying", "character"):
        if length is not None and length < _KEY_TEXT_MIN:
            return f"(({number})::text)"
        # Hex, a dash, the digits: distinct (the dash ends the hex), in no order (as e-mails or
        # codes are), as long as real codes.
        return f"(to_hex(hashint8extended(({number})::bigint, 0) & 4294967295) || '-' || ({number})::text)"
    if data_type == "uuid":
        return f"(lpad(to_hex(hashint8extended(({number})::bigint, 0)), 16, '0') || lpad(to_hex(({number})::bigint), 16, '0'))::uuid"
    if data_type == "date":
        return f"(date '2000-01-01' + ({number})::integer)"
    if data_type == "timestamp with time zone":
        return f"to_timestamp({_EPOCH_2021} + ({number}))"
    if data_type == "timestamp without time zone":
        return f"(to_timestamp({_EPOCH_2021} + ({number})) AT TIME ZONE 'UTC')"
    if data_type == "bytea":
        return f"decode(lpad(to_hex(({number})::bigint), 16, '0'), 'hex')"
    return None


def _weights(count: int, skew: float) -> list[int]:
    """Each label's share in thousandths, Zipf-like with exponent `skew` (the first the most
    frequent), every label at least one thousandth."""
    raw = [1 / (rank + 1) ** skew for rank in range(count)]
    whole = sum(raw)
    return [max(1, round(_LABEL_RESOLUTION * weight / whole)) for weight in raw]


def _labelled(labels: tuple[str, ...], seed: int, skew: float) -> sql.Composable:
    """One of the labels per row, the first the most frequent: an array of the labels (literals)
    indexed through an array of label numbers repeated by their weights, so a row costs one hash."""
    weights = _weights(len(labels), skew)
    slots = [str(index + 1) for index, weight in enumerate(weights) for _ in range(weight)]
    return sql.SQL("(ARRAY[{}])[(ARRAY[{}])[1 + {} % {}]]").format(
        sql.SQL(", ").join(sql.Literal(label) for label in labels),
        sql.SQL(",".join(slots)),
        sql.SQL(_hash(seed)),
        sql.Literal(len(slots)),
    )


def _text(length: int | None, data_type: str, seed: int) -> str:
    """Hex text of varying length within the column's limit (a fixed length for character(n)):
    a 64-bit hash in hex (13 to 16 characters but for one row in millions) repeated as needed."""
    if data_type == "character":
        high = low = int(length or 1)
    else:
        high = min(int(length), 40) if length else 60
        low = max(1, high // 4) if length else 8
    source = f"to_hex(hashint8extended(g, {int(seed)}))"
    reps = math.ceil(high / 13)
    if reps > 1:
        source = f"repeat({source}, {reps})"
    if high == low:
        return f"left({source}, {high})"
    return f"left({source}, ({low} + {_hash(seed + 1)} % {high - low + 1})::integer)"


def _number(
    data_type: str,
    precision: int | None,
    scale: int | None,
    *,
    under_check: bool,
    position: int,
    skew: float,
    row_seed: int,
) -> str:
    """A number from 1 with skew (most small, a few large) from the row's shared draw, plus the
    column's position, so a later number column of the row is larger. Under a CHECK: a whole
    number from 1 to 100 (plus the position). A numeric gets its scale's decimals (two when it
    has none), made as whole hundredths: float to numeric costs five times as much."""
    spread = _UNDER_CHECK if under_check else _SPREAD.get(data_type, _SPREAD_OTHER)
    if data_type == "numeric" and precision is not None:
        spread = max(1, min(spread, 10 ** (precision - (scale or 0)) // 2 - position - 1))
    drawn = f"power({_uniform(row_seed)}, {float(skew)})"
    if data_type in ("smallint", "integer", "bigint") or under_check:
        return f"(1 + floor({spread} * {drawn}) + {position})"
    if data_type == "numeric":
        unit = 10 ** min(int(scale if scale is not None else 2), 6)
        return f"((({1 + position} * {unit}) + floor({spread * unit} * {drawn}))::bigint::numeric / {unit})"
    return f"(1 + {spread} * {drawn} + {position})"


def _time(data_type: str, position: int, row_seed: int) -> str:
    """A date or timestamp in 2021-2025 from the row's shared draw, plus the column's position in
    days, so a later time column of the row is later."""
    drawn = _uniform(row_seed)
    if data_type == "date":
        return f"(date '2021-01-01' + floor({drawn} * {_DAYS})::integer + {position})"
    stamp = f"to_timestamp({_EPOCH_2021 + position * 86_400} + {drawn} * {_DAYS * 86_400})"
    return stamp if data_type == "timestamp with time zone" else f"({stamp} AT TIME ZONE 'UTC')"


def _column_refs(node: object) -> set[str]:
    names: set[str] = set()
    if isinstance(node, ast.ColumnRef):
        last = node.fields[-1]
        if isinstance(last, ast.String):
            names.add(last.sval)
    elif isinstance(node, ast.Node):
        for attribute in node:
            names |= _column_refs(getattr(node, attribute))
    elif isinstance(node, tuple | list):
        for item in node:
            names |= _column_refs(item)
    return names


def _expression(check: str) -> ast.Node:
    """A check's tree, when the text is exactly one expression (no FROM, no second statement)."""
    try:
        parsed = pglast.parse_sql(f"SELECT {check}")
    except ParseError as exc:
        raise ValueError(f"not a CHECK expression: {check[:200]}") from exc
    statement = parsed[0].stmt if len(parsed) == 1 else None
    if (
        not isinstance(statement, ast.SelectStmt)
        or len(statement.targetList or ()) != 1
        or statement.fromClause
        or statement.whereClause
        or statement.groupClause
        or statement.havingClause
        or statement.sortClause
        or statement.limitCount
        or statement.withClause
        or statement.op != 0
        or statement.targetList[0].name
    ):
        raise ValueError(f"not a CHECK expression: {check[:200]}")
    return statement.targetList[0].val


def check_columns(check: str) -> set[str]:
    """The columns a CHECK expression names (none when it does not parse)."""
    try:
        return _column_refs(_expression(check))
    except ValueError:
        return set()


@dataclass(frozen=True, slots=True)
class _Column:
    name: str
    data_type: str
    length: int | None
    precision: int | None
    scale: int | None
    nullable: bool
    generated: bool
    identity_always: bool
    spelled: str  # the type as PostgreSQL prints it (format_type)
    enum_labels: tuple[str, ...]


def _referenced_rows(box: SandboxSession, table: str, schema: str | None, referenced: str, rows: int) -> int:
    """How many rows a foreign key's values are drawn from: this call's rows for a reference to
    the table itself; else the referenced table's rows, or, when it is empty yet, `rows` (it is
    filled later in the same transaction with as many rows, under a deferred constraint: the
    migration preview fills every table at one size)."""
    if referenced == table:
        return rows
    name = sql.Identifier(schema, referenced) if schema else sql.Identifier(referenced)
    found = box.execute(sql.SQL("SELECT count(*) FROM {}").format(name))
    count = int(found[0][0]) if found else 0
    return count or rows


def fill_table(
    box: SandboxSession,
    table: str,
    rows: int,
    shape: Shape = _NO_SHAPE,
    *,
    null_share: float = 0.1,
    skew: float = 2.0,
) -> None:
    """Insert `rows` synthetic rows into `table` (in the session's schema) that keep its
    constraints and `shape` (see the module docstring). `skew` is the exponent of the skewed
    draws: a foreign key's parent is 1 + floor(N * u ** skew), a label's share falls as
    1 / rank ** skew, numbers grow as u ** skew; 1 is uniform. Columns of a type without a
    synthetic value keep their default when nullable. Raises ValueError when rows cannot be made
    (a NOT NULL column of such a type, too few candidates passing the checks, a `Shape.checks`
    text that is not one expression); the database's own refusals pass through as psycopg errors."""
    quoted = sql.Identifier(table).as_string(None)
    keys: set[str] = set(shape.keys)
    checks: list[str] = [str(RawStream()(_expression(check))) for check in shape.checks]
    foreign: dict[str, tuple[int, int]] = {}  # column -> (rows referenced, seed of its draw)
    unique: set[str] = set()
    for column, kind, definition, name, schema, referenced in box.execute(_CONSTRAINED, (quoted, quoted, quoted)):
        if kind == "c":
            checks.append(definition)
        elif kind == "f":
            if column not in shape.references:
                # The columns of one foreign key share their draw, so a composite key's pair exists.
                foreign[column] = (_referenced_rows(box, table, schema, referenced, rows), _seed(table, name))
        else:
            unique.add(column)
    for column, (_, referenced_rows) in shape.references.items():
        foreign[column] = (max(1, int(referenced_rows)), _seed(table, column, "references"))
    keys |= unique
    checked: dict[str, list[str]] = {}
    for check in checks:
        literals = [m.group(1).replace("''", "'") for m in _LITERAL.finditer(check)]
        for column in check_columns(check):
            checked.setdefault(column, []).extend(literals)
    columns = [
        _Column(name, data_type, length, precision, scale, nullable, generated, identity, spelled, tuple(labels or ()))
        for name, data_type, length, precision, scale, nullable, generated, identity, spelled, labels in box.execute(
            _COLUMNS, (quoted, table)
        )
    ]
    names: list[sql.Composable] = []
    values: list[sql.Composable] = []  # from g, in the candidates' subquery
    late_values: list[sql.Composable] = []  # the keys, from the number of a row kept
    numbered: set[str] = set()  # their columns
    early: set[str] = set()  # the columns made in the candidates' subquery
    overriding = False
    # The number of a kept row, under a name no column has (a column may be called n).
    taken = {column.name for column in columns}
    counter = "n"
    while counter in taken:
        counter += "_"
    for position, column in enumerate(columns):
        if column.generated:
            continue
        # Under checks, rows are kept from more candidates than wanted: keys are numbered after
        # the filter (n, 1 to `rows`), so a table referencing this one finds every row 1..N it
        # draws from, not only those of the candidates that passed.
        late = bool(checks) and column.name in keys
        number = sql.Identifier(counter).as_string(None) if late else "g"
        expression = _value(column, position, table, number, keys, foreign, checked, shape, skew)
        if expression is None:
            if not column.nullable:
                raise ValueError(f"no synthetic value for {table}.{column.name} of type {column.data_type}")
            if column.name not in checked:
                continue
            expression = sql.SQL("NULL")
        elif (
            column.nullable
            and null_share > 0
            and column.name not in keys
            and not (column.name in foreign and column.name in checked)
        ):
            threshold = min(2**31, int(null_share * 2**31))
            expression = sql.SQL("CASE WHEN {} < {} THEN NULL ELSE {} END").format(
                sql.SQL(_hash(_seed(table, column.name, "null"))), sql.Literal(threshold), expression
            )
        overriding = overriding or column.identity_always
        identifier = sql.Identifier(column.name)
        names.append(identifier)
        # Cast to the column's type as the catalog prints it: the rows are built in a subquery
        # when the table has checks, where a bare literal would be text.
        value = sql.SQL("({})::{} AS {}").format(expression, sql.SQL(column.spelled), identifier)
        if late:
            late_values.append(value)
            numbered.add(column.name)
        else:
            values.append(value)
            early.add(column.name)
    target = sql.SQL("INSERT INTO {} ({}){}").format(
        sql.Identifier(table),
        sql.SQL(", ").join(names),
        sql.SQL(" OVERRIDING SYSTEM VALUE") if overriding else sql.SQL(""),
    )
    # generate_series in the select list streams its rows (in FROM it would store them all first).
    if not checks:
        box.execute(
            sql.SQL("{} SELECT {} FROM (SELECT generate_series(1, {}) AS g) AS s").format(
                target, sql.SQL(", ").join(values), sql.Literal(rows)
            )
        )
        return

    # The checks are the table's own (as PostgreSQL prints them) and those of the shape (as pglast
    # writes their tree back). A CHECK accepts a row unless it is false (NULL passes), hence IS NOT FALSE.
    # Those naming no key filter the candidates before they are numbered; those naming a key (id > 0)
    # can only be tried on the numbered rows, where a refusal leaves a gap in the keys.
    def condition(kept: list[str]) -> sql.Composable:
        return sql.SQL(" AND ").join(
            [sql.SQL("({}) IS NOT FALSE").format(sql.SQL(check)) for check in kept] or [sql.SQL("true")]
        )

    before = [check for check in checks if not check_columns(check) & numbered]
    after = [check for check in checks if check_columns(check) & numbered]
    made_early = [sql.Identifier(column.name) for column in columns if column.name in early]
    # The rows made are counted before and after rather than returned by the INSERT: a RETURNING
    # in a CTE stores every row it returns and cost a seventh of the fill.
    counting = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
    already = box.execute(counting)[0][0]
    box.execute(
        sql.SQL(
            "{} SELECT {} FROM (SELECT {} FROM (SELECT {} FROM"
            " (SELECT {} FROM (SELECT generate_series(1, {}) AS g) AS s0) AS s WHERE {}) AS counted) AS kept"
            " WHERE {} LIMIT {}"
        ).format(
            target,
            sql.SQL(", ").join(names),
            sql.SQL(", ").join([*made_early, *late_values]),
            sql.SQL(", ").join([*made_early, sql.SQL("row_number() OVER () AS {}").format(sql.Identifier(counter))]),
            sql.SQL(", ").join(values),
            sql.Literal(rows * CHECK_TRIES),
            condition(before),
            condition(after),
            sql.Literal(rows),
        )
    )
    count = box.execute(counting)[0][0] - already
    if count < rows:
        raise ValueError(
            f"only {count:,} of {rows:,} synthetic rows for {table} satisfy its CHECK constraints "
            f"({'; '.join(checks)[:200]})"
        )


def _value(
    column: _Column,
    position: int,
    table: str,
    number: str,
    keys: set[str],
    foreign: Mapping[str, tuple[int, int]],
    checked: Mapping[str, list[str]],
    shape: Shape,
    skew: float,
) -> sql.Composable | None:
    """The SQL expression of a column's synthetic value from the row number g (a key's from
    `number`: g, or n when keys are numbered after the checks' filter); None for a type without one."""
    name, data_type = column.name, column.data_type
    if name in keys:
        # A unique foreign key stays unique: row n of the referenced table for row n.
        key = _key(data_type, column.length, number)
        return None if key is None else sql.SQL(key)
    if name in foreign:
        referenced_rows, seed = foreign[name]
        parent = f"(1 + floor({referenced_rows} * power({_uniform(seed)}, {float(skew)})))::bigint"
        key = _key(data_type, column.length, parent)
        return None if key is None else sql.SQL(key)
    seed = _seed(table, name)
    labels = tuple(shape.labels.get(name, ()))
    if not labels and data_type in _TEXTS and name in checked:
        # The literals of the checks naming a text column: values they accept (status IN (...)).
        labels = tuple(dict.fromkeys(checked[name]))
    if not labels:
        labels = column.enum_labels
    if labels:
        return _labelled(labels, seed, skew)
    if data_type in _NUMBERS:
        return sql.SQL(
            _number(
                data_type,
                column.precision,
                column.scale,
                under_check=name in checked,
                position=position,
                skew=skew,
                row_seed=_seed(table, "numbers"),
            )
        )
    if data_type in _TIMES:
        return sql.SQL(_time(data_type, position, _seed(table, "times")))
    if data_type in ("text", "character varying", "character"):
        return sql.SQL(_text(column.length, data_type, seed))
    template = _OTHER.get(data_type)
    if template is None:
        return None
    return sql.SQL(template.format(h=_hash(seed), seed=seed))


def scaled_rows(declared: Mapping[str, int | None], *, cap: int, default: int) -> tuple[float, dict[str, int]]:
    """Rows per table for a sandbox that cannot hold the declared volumes: one factor for all
    tables, min(1, cap / the largest declared volume), so their ratios (customers to orders) stay.
    A table without a declared volume counts as `default` rows before scaling; every table gets
    at least one row. Returns (factor, table -> rows)."""
    wanted = {table: max(0, volume if volume is not None else default) for table, volume in declared.items()}
    largest = max(wanted.values(), default=0)
    factor = min(1.0, cap / largest) if largest > 0 else 1.0
    return factor, {table: max(1, round(volume * factor)) for table, volume in wanted.items()}
