"""The DesignModel: one immutable, plain-Python picture of a pasted design.

Every element carries a SourceRef so that each finding can point at the exact line a reviewer
must look at. Nothing here imports Django; analyzers take these objects and nothing else.

Every record is frozen. A frozen dataclass costs about three times as much to build (each field
is stored through object.__setattr__), and a large API yields SourceRefs and endpoint parts by
the ten thousand: the parsers and analyzers keep that affordable by building fewer of them
(a shape worked out once per shared schema or parameter, one SourceRef for the findings several
rules report at the same place), never by changing a record after it is built.

The data model's tables and the stories and named queries are declared in `model_elements`
and imported from here like the rest: their classes are built on first use, so analysing an
API alone does not build a dozen classes it never needs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

Severity = Literal["critical", "high", "medium", "low", "info"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low", "info")


def stored_through_slots[R](cls: type[R]) -> type[R]:
    """Give a frozen, slotted dataclass an `__init__` that stores each field through its slot.

    A frozen dataclass's own `__init__` stores each field through `object.__setattr__` (the
    class's `__setattr__` refuses), which costs about twice what the slot's own descriptor does;
    the records marked so are built by the hundred thousand (parsing Microsoft Graph's description
    alone builds 240,000). The signature and defaults are the dataclass's, and the record is as
    frozen: only `__init__` writes, assigning afterwards still raises FrozenInstanceError.

    `cls.make(...)` builds the same record: called with keywords, about a third cheaper than the
    class (calling a class gathers keyword arguments into a dict, and its `__init__` unpacks them
    again), for the parsers building a large API's records by the ten thousand."""
    settings = getattr(cls, "__dataclass_params__", None)
    if settings is None or not settings.frozen or "__slots__" not in cls.__dict__ or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} is not a frozen, slotted dataclass without __post_init__")
    scope: dict[str, Any] = {"MISSING": dataclasses.MISSING}
    params: list[str] = []
    body: list[str] = []
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if not f.init or f.kw_only is True:
            raise TypeError(f"{cls.__name__}.{f.name} is not an ordinary field")
        scope[f"set_{f.name}"] = getattr(cls, f.name).__set__
        if f.default is not dataclasses.MISSING:
            scope[f"default_{f.name}"] = f.default
            params.append(f"{f.name}=default_{f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            scope[f"factory_{f.name}"] = f.default_factory
            params.append(f"{f.name}=MISSING")
            body.append(f"    if {f.name} is MISSING:\n        {f.name} = factory_{f.name}()")
        else:
            params.append(f.name)
        body.append(f"    set_{f.name}(self, {f.name})")
    # Written from the field names alone, as dataclasses writes its own __init__; `make` stores
    # the same fields into a new record.
    scope["cls"] = cls
    scope["new"] = object.__new__
    exec(  # noqa: S102
        f"def __init__(self, {', '.join(params)}):\n"
        + "\n".join(body)
        + f"\ndef make({', '.join(params)}):\n    self = new(cls)\n"
        + "\n".join(body)
        + "\n    return self",
        scope,
    )
    init, make = scope["__init__"], scope["make"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    make.__qualname__ = f"{cls.__qualname__}.make"
    cls.__init__ = init  # type: ignore[misc]
    cls.make = staticmethod(make)  # type: ignore[attr-defined]
    return cls


@stored_through_slots
@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where an element was written: a document name, a 1-based line and column, a JSON pointer."""

    document: str
    line: int | None = None
    column: int | None = None
    pointer: str | None = None
    make: ClassVar[Callable[..., SourceRef]]  # see stored_through_slots

    def as_dict(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "line": self.line,
            "column": self.column,
            "pointer": self.pointer,
        }


@dataclass(frozen=True, slots=True)
class Problem:
    """Something in the input that could not be read as written. Fatal ones stop the analysis."""

    code: str
    message: str
    source: SourceRef
    fix: str = ""
    fatal: bool = False
    severity: Severity = "medium"


# --- API -------------------------------------------------------------------------------------


@stored_through_slots
@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    location: str  # path, query, header, cookie
    required: bool
    schema_type: str | None
    source: SourceRef
    constraints: Mapping[str, Any] = field(default_factory=dict)  # maxLength, maximum, enum, ...
    make: ClassVar[Callable[..., Parameter]]  # see stored_through_slots


@stored_through_slots
@dataclass(frozen=True, slots=True)
class Body:
    """A request or response body: its media type, the schema's pointer, the top-level fields."""

    media_type: str
    schema_pointer: str | None
    schema_name: str | None  # the components/schemas name the body refers to, if any
    is_array: bool
    fields: tuple[str, ...]
    source: SourceRef
    make: ClassVar[Callable[..., Body]]  # see stored_through_slots


@stored_through_slots
@dataclass(frozen=True, slots=True)
class Response:
    status: str
    description: str
    body: Body | None
    source: SourceRef
    make: ClassVar[Callable[..., Response]]  # see stored_through_slots


@stored_through_slots
@dataclass(frozen=True, slots=True)
class Endpoint:
    """One operation (method + path) of the API."""

    method: str  # upper case
    path: str  # as written under `paths`
    full_path: str  # with the servers' base path, e.g. /v1/orders
    operation_id: str | None
    summary: str
    tags: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    request_body: Body | None
    responses: tuple[Response, ...]
    security: tuple[tuple[str, ...], ...]  # alternatives, each a set of scheme names; () = public
    security_declared: bool  # whether the operation (or the document) says anything about security
    deprecated: bool
    pagination: str | None  # cursor, page, offset, or None
    entities: tuple[str, ...]  # entity names this operation reads or writes, most specific first
    source: SourceRef
    # components/schemas reached from this operation's bodies, worked out on first use: a large
    # API reaches hundreds from every operation, and only entity linking asks.
    schemas_reached: Callable[[], tuple[str, ...]] = field(default=tuple, compare=False, repr=False)
    # `operation` (under `paths`), or a call the API documents outside them: `webhook` (3.1
    # `webhooks`, path = its name) or `callback` (an operation's `callbacks`, path = its URL
    # expression). Only operations are in DesignModel.endpoints; the others in `webhooks`.
    kind: str = "operation"
    make: ClassVar[Callable[..., Endpoint]]  # see stored_through_slots

    @property
    def schema_names(self) -> tuple[str, ...]:
        return self.schemas_reached()

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def label(self) -> str:
        return f"{self.method} {self.full_path}" + (f" ({self.operation_id})" if self.operation_id else "")


@dataclass(frozen=True, slots=True)
class SecurityScheme:
    name: str
    type: str
    details: Mapping[str, Any]
    source: SourceRef


@dataclass(frozen=True, slots=True)
class ApiSettings:
    title: str
    version: str
    openapi_version: str
    servers: tuple[str, ...]
    base_path: str
    security_schemes: tuple[SecurityScheme, ...]
    default_security: tuple[tuple[str, ...], ...]
    schema_names: tuple[str, ...]
    source: SourceRef


@dataclass(frozen=True, slots=True)
class ApiDocument:
    """The OpenAPI document as loaded (plain JSON-like data, never to be mutated) and a way to
    turn a JSON pointer into a SourceRef. Rules that need the raw schemas read it; lines are
    looked up only for what they report."""

    data: Mapping[str, Any]
    locate: Callable[[str], SourceRef] = field(compare=False, repr=False)
    # The same for a dict or list of `data` known by identity, with its pointer: much cheaper
    # when thousands of places are reported.
    locate_node: Callable[[Any, str], SourceRef] | None = field(default=None, compare=False, repr=False)
    # The target of a local `#/...` ref (None when it names nothing), remembered per ref.
    resolve: Callable[[str], Any] | None = field(default=None, compare=False, repr=False)
    # Which of the workbench's own extensions (x-workbench-*) occur in the text at all, so that
    # rules can skip looking for them in the usual case where none does.
    extensions: frozenset[str] = frozenset()

    @property
    def version(self) -> str:
        return str(self.data.get("openapi", ""))


# --- The whole design -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DesignModel:
    entities: tuple[Entity, ...] = ()
    endpoints: tuple[Endpoint, ...] = ()
    stories: tuple[Story, ...] = ()
    queries: tuple[NamedQuery, ...] = ()
    api: ApiSettings | None = None
    documents: tuple[str, ...] = ()  # the names SourceRefs point into
    api_document: ApiDocument | None = field(default=None, compare=False, repr=False)
    # Webhooks and callbacks the API documents (Endpoint.kind `webhook` or `callback`): kept
    # apart from `endpoints`, which the generated code, query plans and inventory read.
    webhooks: tuple[Endpoint, ...] = ()

    def entity(self, name: str) -> Entity | None:
        return next((e for e in self.entities if e.name == name), None)

    def counts(self) -> dict[str, int]:
        return {
            "entities": len(self.entities),
            "endpoints": len(self.endpoints),
            "stories": len(self.stories),
            "queries": len(self.queries),
            # only when there are any: a design without them reads as it always did
            **({"webhooks": len(self.webhooks)} if self.webhooks else {}),
        }


@dataclass(frozen=True, slots=True)
class ParseResult:
    model: DesignModel
    problems: tuple[Problem, ...]

    @property
    def fatal(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.fatal)

    @property
    def ok(self) -> bool:
        return not self.fatal


# The data model's and the stories' elements live in model_elements, built on first use.
_ELEMENTS = frozenset(
    {
        "Column",
        "ForeignKey",
        "UniqueConstraint",
        "Index",
        "CheckConstraint",
        "Entity",
        "Budget",
        "Volume",
        "EndpointRef",
        "REFERENTIAL_ACTIONS",
        "Story",
        "NamedQuery",
    }
)

if TYPE_CHECKING:  # re-exported: the names are this module's
    from apps.designs.engine.model_elements import (
        REFERENTIAL_ACTIONS as REFERENTIAL_ACTIONS,
    )
    from apps.designs.engine.model_elements import (
        Budget as Budget,
    )
    from apps.designs.engine.model_elements import (
        CheckConstraint as CheckConstraint,
    )
    from apps.designs.engine.model_elements import (
        Column as Column,
    )
    from apps.designs.engine.model_elements import (
        EndpointRef as EndpointRef,
    )
    from apps.designs.engine.model_elements import (
        Entity as Entity,
    )
    from apps.designs.engine.model_elements import (
        ForeignKey as ForeignKey,
    )
    from apps.designs.engine.model_elements import (
        Index as Index,
    )
    from apps.designs.engine.model_elements import (
        NamedQuery as NamedQuery,
    )
    from apps.designs.engine.model_elements import (
        Story as Story,
    )
    from apps.designs.engine.model_elements import (
        UniqueConstraint as UniqueConstraint,
    )
    from apps.designs.engine.model_elements import (
        Volume as Volume,
    )


def __getattr__(name: str) -> Any:
    if name in _ELEMENTS:
        from apps.designs.engine import model_elements

        return getattr(model_elements, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
