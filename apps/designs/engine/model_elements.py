"""The elements of a design that a bare OpenAPI document never yields: the data model's tables
and the stories and named queries. Part of the DesignModel (`model.py` re-exports every name);
in a module of their own so that analysing an API alone does not build their classes."""

from __future__ import annotations

from dataclasses import dataclass

from apps.designs.engine.model import SourceRef

# --- Data model ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str  # canonical PostgreSQL spelling: bigint, varchar(254), char(3), timestamptz, ...
    nullable: bool
    default: str | None  # a PostgreSQL expression as PostgreSQL would print it: now(), 'EUR', false
    identity: bool  # GENERATED ... AS IDENTITY, serial or DBML's increment
    source: SourceRef
    # The labels of the enum type the column is declared with (CREATE TYPE ... AS ENUM, DBML's
    # Enum), in their order; () for any other type.
    values: tuple[str, ...] = ()
    comment: str | None = None  # COMMENT ON COLUMN, as written (a value: never SQL)


# The referential actions of a foreign key, as PostgreSQL spells them.
REFERENTIAL_ACTIONS = ("NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT")


@dataclass(frozen=True, slots=True)
class ForeignKey:
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    source: SourceRef
    name: str | None = None
    on_delete: str = "NO ACTION"  # one of REFERENTIAL_ACTIONS
    on_update: str = "NO ACTION"


@dataclass(frozen=True, slots=True)
class UniqueConstraint:
    columns: tuple[str, ...]
    source: SourceRef
    name: str | None = None
    # A partial unique index's WHERE, as PostgreSQL's grammar prints it (allow-listed): the
    # columns are unique among the rows it selects only.
    where: str | None = None
    nulls_distinct: bool = True  # False: NULLS NOT DISTINCT (two NULLs collide)


@dataclass(frozen=True, slots=True)
class Index:
    columns: tuple[str, ...]  # column names, or the expression text for expression indexes
    unique: bool
    source: SourceRef
    name: str | None = None
    method: str = "btree"
    where: str | None = None


@dataclass(frozen=True, slots=True)
class CheckConstraint:
    expression: str
    source: SourceRef
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Entity:
    """A table of the data model."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...]
    uniques: tuple[UniqueConstraint, ...]  # unique constraints and unique indexes (partial too) alike
    indexes: tuple[Index, ...]  # non-unique indexes
    checks: tuple[CheckConstraint, ...]
    rows: int | None  # declared volume
    source: SourceRef
    schema: str | None = None
    # What the parser read but left out of the model (an expression off the allow-list, a
    # generated column's expression), each said as a note the migration preview shows.
    left_out: tuple[str, ...] = ()
    # Where the primary key is declared (a table constraint or a column's PRIMARY KEY/[pk]).
    primary_key_source: SourceRef | None = None

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


# --- Stories and queries ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Budget:
    """A latency/throughput budget such as `p95 < 150 ms at 400 req/s`."""

    percentile: str
    latency_ms: float
    throughput_rps: float | None
    text: str


@dataclass(frozen=True, slots=True)
class Volume:
    count: int
    noun: str
    text: str


@dataclass(frozen=True, slots=True)
class EndpointRef:
    method: str
    path: str
    source: SourceRef

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True, slots=True)
class Story:
    id: str
    title: str
    role: str | None
    goal: str | None
    benefit: str | None
    acceptance_criteria: tuple[str, ...]
    budgets: tuple[Budget, ...]
    volumes: tuple[Volume, ...]
    endpoints: tuple[EndpointRef, ...]
    queries: tuple[str, ...]  # named queries the story cites
    source: SourceRef
    # Every non-blank line under the heading, the heading first, as (1-based line, text): what
    # the story's requirements are read from (`story_intents`), so a finding can cite the line.
    lines: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True, slots=True)
class NamedQuery:
    name: str
    sql: str  # as written
    normalized_sql: str  # parameters rewritten to $1, $2, ... for PostgreSQL's parser
    parameters: tuple[str, ...]  # names in $n order
    tables: tuple[str, ...]
    source: SourceRef
