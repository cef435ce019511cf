"""From pasted texts to one DesignModel: the single entry point the rest of the app calls.

Input is either one Markdown design document (fenced ```openapi / ```dbml / ```sql blocks,
`###` story headings) or the same parts pasted separately. Parse problems come back with
the model; the fatal ones mean nothing useful can be analysed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import PurePath
from typing import TYPE_CHECKING

from apps.designs.engine.bulk import bulk_step, settle
from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.model import (
    ApiDocument,
    ApiSettings,
    DesignModel,
    Endpoint,
    ParseResult,
    Problem,
    SourceRef,
)
from apps.designs.engine.openapi import parse_openapi, parse_webhooks
from apps.designs.engine.sqlblocks import has_named_queries, split_named
from apps.designs.engine.structured import looks_like_json
from apps.designs.engine.text import InputError, check_storable, document_name_problem, utf8_storable

if TYPE_CHECKING:
    from apps.designs.engine.model import Entity, NamedQuery, Story

OPENAPI_FENCES = {"openapi", "swagger", "oas"}
DBML_FENCES = {"dbml"}
SQL_FENCES = {"sql", "postgresql", "postgres", "pgsql", "psql", "ddl"}
STRUCTURED_FENCES = {"yaml", "yml", "json"}
_WORKBENCH_EXTENSION = re.compile(r"x-workbench-[a-z-]+")


@dataclass(frozen=True, slots=True)
class DesignInput:
    """What a user pasted: a whole design document, or the parts in separate fields."""

    document: str = ""
    stories: str = ""
    openapi: str = ""
    data_model: str = ""
    queries: str = ""
    document_name: str = "design.md"
    # Names to report a separately pasted field under, e.g. (("openapi", "github.json"),)
    field_names: tuple[tuple[str, str], ...] = ()
    # `openapi` in UTF-8, when it was read from a file's bytes: its parser reads them, and the
    # text (megabytes for a large API) is not encoded again. Only `input_from_file` sets it.
    openapi_utf8: bytes | None = field(default=None, compare=False, repr=False)

    def is_empty(self) -> bool:
        return not any(has_text(t) for t in (self.document, self.stories, self.openapi, self.data_model, self.queries))


def has_text(text: str) -> bool:
    """`bool(text.strip())`, without the copy of the whole text that `strip` makes of one ending in
    a newline (as most saved files do: megabytes for a large API, twice over)."""
    return bool(text) and not text.isspace()


@dataclass
class _Parts:
    entities: list[Entity]
    endpoints: list[Endpoint]
    stories: list[Story]
    queries: list[NamedQuery]
    api: ApiSettings | None
    problems: list[Problem]
    api_document: ApiDocument | None
    documents: list[str]
    recognised: int = 0  # blocks and stories found in a design document; none means a wrong paste
    webhooks: list[Endpoint] = field(default_factory=list)


def field_document_names(inputs: DesignInput) -> dict[str, str]:
    """The document name each separately pasted field is reported under."""
    openapi_ext = "json" if looks_like_json(inputs.openapi) else "yaml"
    model_ext = "sql" if looks_like_ddl(inputs.data_model) else "dbml"
    return {
        "stories": "stories.md",
        "openapi": f"openapi.{openapi_ext}",
        "data_model": f"data-model.{model_ext}",
        "queries": "queries.sql",
        **dict(inputs.field_names),
    }


def looks_like_ddl(text: str) -> bool:
    """DBML declares `Table x {`; DDL says CREATE. Decides which parser a data model field gets."""
    head = re.sub(r"--[^\n]*|/\*.*?\*/", "", text[:20000], flags=re.DOTALL)
    return (
        re.search(
            r"\bcreate\s+(table|index|unique|type|extension|schema)\b",
            head,
            re.IGNORECASE,
        )
        is not None
    )


def parse_design(inputs: DesignInput, *, limits: ParseLimits) -> ParseResult:
    """Parse everything pasted into one DesignModel plus the problems met on the way.

    Never raises for bad input: each problem names its document and line. Fatal problems
    (empty input, oversize documents, unreadable OpenAPI/DBML/DDL, nothing recognised) mean
    the model is incomplete and analysis should not start.
    """
    with bulk_step():
        result = _parse_design(inputs, limits)
        # Inside a larger step (the whole analysis), the model lives as long as that step does:
        # the collector need not traverse its records again while the analyzers run.
        settle()
        return result


def _parse_design(inputs: DesignInput, limits: ParseLimits) -> ParseResult:
    parts = _Parts([], [], [], [], None, [], None, [])
    if inputs.is_empty():
        parts.problems.append(
            Problem(
                code="input.empty",
                message="nothing was pasted",
                source=SourceRef(inputs.document_name, 1, 1),
                fix="Paste a design document, or at least one of: stories, an OpenAPI document, a data model (DBML or DDL), queries.",
                fatal=True,
            )
        )
        return _result(parts)

    names = field_document_names(inputs)
    texts = [("document", inputs.document_name, inputs.document)] + [
        (field, names[field], getattr(inputs, field)) for field in ("stories", "openapi", "data_model", "queries")
    ]
    openapi_utf8: bytes | None = None  # the OpenAPI field's text in UTF-8, which its parser reads
    for field_name, document, text in texts:
        if not text:
            continue
        # Measured and checked in one pass of the encoder (a large API is megabytes of text);
        # a text with more characters than the limit has bytes is too large without either.
        if len(text) > limits.max_document_bytes:
            size, unstorable = len(text), None
        else:
            utf8, unstorable = utf8_storable(text, inputs.openapi_utf8 if field_name == "openapi" else None)
            size = len(utf8)
            if field_name == "openapi" and unstorable is None:
                openapi_utf8 = utf8
        if size > limits.max_document_bytes:
            parts.problems.append(
                Problem(
                    code="input.too-large",
                    message=f"{document} is larger than the limit of {limits.max_document_bytes / 1024 / 1024:.0f} MB",
                    source=SourceRef(document, 1, 1),
                    fix="Paste a smaller document (split the API, or drop unused components); the limit is the DESIGN_MAX_DOCUMENT_BYTES setting.",
                    fatal=True,
                )
            )
        elif unstorable is not None:
            # Before any parser: a NUL or lone surrogate would reach the database through the
            # texts, the parsed names or the report, and PostgreSQL refuses them all.
            try:
                check_storable(text, document=document)
            except InputError as exc:
                parts.problems.append(exc.problem)
    bad_name = document_name_problem(inputs.document_name)
    if bad_name is not None:
        parts.problems.append(bad_name)
    if any(p.fatal for p in parts.problems):
        return _result(parts)

    if has_text(inputs.document):
        _parse_markdown(inputs.document, inputs.document_name, parts, limits)
    if has_text(inputs.stories):
        before = len(parts.stories)
        _parse_story_headings(inputs.stories, names["stories"], parts)
        parts.documents.append(names["stories"])
        if len(parts.stories) == before:
            parts.problems.append(
                Problem(
                    code="stories.none-found",
                    message="no story was found in the stories field",
                    source=SourceRef(names["stories"], 1, 1),
                    fix="Start each story with a `### ID: title` heading, followed by `As a ..., I want ..., so that ...`.",
                    fatal=True,
                )
            )
    if has_text(inputs.openapi):
        _parse_openapi_part(inputs.openapi, names["openapi"], 0, parts, limits, utf8=openapi_utf8)
    if has_text(inputs.data_model):
        if looks_like_ddl(inputs.data_model):
            _parse_sql(inputs.data_model, names["data_model"], 0, parts, queries_only=False)
        else:
            _parse_data_model(inputs.data_model, names["data_model"], 0, parts, dbml=True)
    if has_text(inputs.queries):
        _parse_sql(inputs.queries, names["queries"], 0, parts, queries_only=True)

    if has_text(inputs.document) and parts.recognised == 0:
        parts.problems.append(
            Problem(
                code="input.nothing-recognised",
                message=f"{inputs.document_name} holds no story heading and no ```openapi, ```dbml or ```sql block",
                source=SourceRef(inputs.document_name, 1, 1),
                fix="Tag the fenced blocks (```openapi, ```dbml, ```sql) and write stories under `### ID: title` headings.",
                fatal=True,
            )
        )
    return _result(parts)


def _result(parts: _Parts) -> ParseResult:
    entities = tuple(_dedupe_entities(parts))
    endpoints = tuple(link_entities(e, entities) for e in parts.endpoints)
    model = DesignModel(
        entities=entities,
        endpoints=endpoints,
        stories=tuple(parts.stories),
        queries=tuple(parts.queries),
        api=parts.api,
        documents=tuple(dict.fromkeys(parts.documents)),
        api_document=parts.api_document,
        webhooks=tuple(link_entities(e, entities) for e in parts.webhooks),
    )
    return ParseResult(model=model, problems=tuple(parts.problems))


def _dedupe_entities(parts: _Parts) -> list[Entity]:
    by_name: dict[str, Entity] = {}
    for entity in parts.entities:
        if entity.name in by_name:
            parts.problems.append(
                Problem(
                    code="model.duplicate-entity",
                    message=f"table {entity.name} is defined twice (also at line {by_name[entity.name].source.line} of {by_name[entity.name].source.document}); the later one is used",
                    source=entity.source,
                    fix="Define each table once: either in DBML or in DDL.",
                )
            )
        by_name[entity.name] = entity
    return list(by_name.values())


def _parse_markdown(text: str, document: str, parts: _Parts, limits: ParseLimits) -> None:
    parts.documents.append(document)
    from markdown_it import MarkdownIt  # imported on use: a bare OpenAPI file never needs it

    tokens = MarkdownIt("commonmark").parse(text)
    lines = text.splitlines()
    headings: list[tuple[int, int, str]] = []  # (level, 0-based line, text)
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.map:
            headings.append((int(token.tag[1]), token.map[0], tokens[index + 1].content))
        elif token.type == "fence" and token.map:
            info = (token.info or "").strip().split()[0].lower() if token.info.strip() else ""
            offset = token.map[0] + 1  # the fence's first content line, 0-based
            content = token.content
            if info in STRUCTURED_FENCES and re.search(r"^\s*[\"']?(openapi|swagger)[\"']?\s*:", content, re.MULTILINE):
                info = "openapi"
            if info in OPENAPI_FENCES:
                if parts.api is not None:
                    parts.problems.append(
                        Problem(
                            "input.several-openapi",
                            "a second ```openapi block was ignored; one API per design",
                            SourceRef(document, offset, 1),
                            "Merge the blocks into one OpenAPI document.",
                        )
                    )
                    continue
                _parse_openapi_part(content, document, offset, parts, limits)
            elif info in DBML_FENCES:
                _parse_data_model(content, document, offset, parts, dbml=True)
            elif info in SQL_FENCES:
                _parse_sql(content, document, offset, parts, queries_only=False)
    _stories_from_headings(headings, lines, document, parts)


def _parse_story_headings(text: str, document: str, parts: _Parts) -> None:
    from markdown_it import MarkdownIt  # imported on use: a bare OpenAPI file never needs it

    tokens = MarkdownIt("commonmark").parse(text)
    headings = [
        (int(t.tag[1]), t.map[0], tokens[i + 1].content)
        for i, t in enumerate(tokens)
        if t.type == "heading_open" and t.map
    ]
    _stories_from_headings(headings, text.splitlines(), document, parts)


def _stories_from_headings(
    headings: list[tuple[int, int, str]], lines: list[str], document: str, parts: _Parts
) -> None:
    if not any(level == 3 for level, _, _ in headings):
        return
    # The story parser (and its patterns) only when there is a heading to read: a bare OpenAPI
    # file never needs it.
    from apps.designs.engine.stories import is_story_heading, parse_story

    for position, (level, line, title) in enumerate(headings):
        if level != 3:
            continue
        end = next((h[1] for h in headings[position + 1 :] if h[0] <= 3), len(lines))
        body = lines[line + 1 : end]
        if not is_story_heading(title, body):
            continue
        story = parse_story(
            title,
            body,
            document=document,
            heading_line=line + 1,
            index=len(parts.stories) + 1,
        )
        if any(s.id == story.id for s in parts.stories):
            parts.problems.append(
                Problem(
                    "stories.duplicate-id",
                    f"story id {story.id} is used twice",
                    story.source,
                    "Give every story its own id.",
                )
            )
        parts.stories.append(story)
        parts.recognised += 1


def _parse_openapi_part(
    text: str, document: str, offset: int, parts: _Parts, limits: ParseLimits, *, utf8: bytes | None = None
) -> None:
    parts.documents.append(document)
    parts.recognised += 1
    try:
        settings, endpoints, problems, doc = parse_openapi(
            text, document=document, line_offset=offset, limits=limits, utf8=utf8
        )
    except InputError as exc:
        parts.problems.append(exc.problem)
        return
    parts.api = settings
    keys = doc.locator.extension_keys()  # met by the JSON scanner on its way: no search of the text
    extensions = (
        frozenset(k for k in keys if k.startswith("x-workbench-"))
        if keys is not None
        else frozenset(_WORKBENCH_EXTENSION.findall(text))
    )
    parts.api_document = ApiDocument(
        data=doc.data, locate=doc.ref, locate_node=doc.node_ref, resolve=doc.resolve, extensions=extensions
    )
    parts.endpoints.extend(endpoints)
    parts.webhooks.extend(parse_webhooks(doc, default_security=settings.default_security, limits=limits))
    parts.problems.extend(problems)


def _parse_data_model(text: str, document: str, offset: int, parts: _Parts, *, dbml: bool) -> None:
    # The DBML and DDL parsers pull in pyparsing and libpg_query: import them only when used.
    from apps.designs.engine.dbml import parse_dbml
    from apps.designs.engine.ddl import parse_ddl

    parts.documents.append(document)
    parts.recognised += 1
    try:
        entities, problems = (
            parse_dbml(text, document=document, line_offset=offset)
            if dbml
            else parse_ddl(text, document=document, line_offset=offset)
        )
    except InputError as exc:
        parts.problems.append(exc.problem)
        return
    parts.entities.extend(entities)
    parts.problems.extend(problems)


def _parse_sql(text: str, document: str, offset: int, parts: _Parts, *, queries_only: bool) -> None:
    """A SQL block holds DDL, `-- name:` queries, or DDL followed by queries."""
    parts.documents.append(document)
    parts.recognised += 1
    ddl, _ = split_named(text)
    if ddl.strip() and not queries_only:
        _parse_data_model(ddl, document, offset, parts, dbml=False)
    elif ddl.strip() and queries_only and not has_named_queries(text):
        parts.problems.append(
            Problem(
                code="query.no-name",
                message="the queries field holds SQL without a `-- name:` line, so no query can be named",
                source=SourceRef(document, 1 + offset, 1),
                fix="Put `-- name: some_query` on the line before each statement.",
                fatal=True,
            )
        )
    if has_named_queries(text):
        from apps.designs.engine.queries import parse_queries

        queries, problems = parse_queries(text, document=document, line_offset=offset)
        parts.queries.extend(queries)
        parts.problems.extend(problems)


# --- Linking endpoints to entities ---------------------------------------------------------

_SCHEMA_SUFFIXES = (
    "create",
    "update",
    "input",
    "request",
    "response",
    "patch",
    "read",
    "detail",
    "list",
    "summary",
    "payload",
    "dto",
    "out",
    "in",
    "write",
)


def snake(name: str) -> str:
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def singular(word: str) -> str:
    head, _, last = word.rpartition("_")
    if last.endswith("ies") and len(last) > 4:
        last = last[:-3] + "y"
    elif last.endswith(("sses", "shes", "ches", "xes", "zes")):
        last = last[:-2]
    elif last.endswith("s") and not last.endswith(("ss", "us", "is")) and len(last) > 2:
        last = last[:-1]
    return f"{head}_{last}" if head else last


def schema_entity_key(schema_name: str) -> str:
    words = snake(schema_name).split("_")
    while len(words) > 1 and words[-1] in _SCHEMA_SUFFIXES:
        words.pop()
    return singular("_".join(words))


def link_entities(endpoint: Endpoint, entities: tuple[Entity, ...]) -> Endpoint:
    """Which entities an operation reads or writes: by path segment (last first; a segment under
    its parent's, `/consultations/{id}/notes` for `consultation_notes`, before the segment alone),
    then by schema."""
    if not entities:
        return endpoint
    keys = {singular(snake(e.name)): e.name for e in entities}
    found: list[str] = []
    segments = [s for s in endpoint.path.split("/") if s and not s.startswith("{")]
    for position in range(len(segments) - 1, -1, -1):
        word = singular(snake(segments[position]))
        parent = singular(snake(segments[position - 1])) if position else ""
        for key in (f"{parent}_{word}" if parent else "", word):
            name = keys.get(key) if key else None
            if name and name not in found:
                found.append(name)
    for schema in endpoint.schema_names:
        name = keys.get(schema_entity_key(schema))
        if name and name not in found:
            found.append(name)
    # The same words in another order (`/proof-of-delivery`, `ProofOfDelivery` for
    # `delivery_proofs`), after what the names give as written.
    by_words = {name_words(key): name for key, name in keys.items()}
    for candidate in (
        *(singular(snake(s)) for s in reversed(segments)),
        *map(schema_entity_key, endpoint.schema_names),
    ):
        name = by_words.get(name_words(candidate))
        if name and name not in found:
            found.append(name)
    return replace(endpoint, entities=tuple(found))


_LINK_WORDS = frozenset({"of", "the", "a", "an", "and", "for", "to"})


def name_words(name: str) -> frozenset[str]:
    """The words of a table's or schema's name, each singular, without linking words:
    `ProofOfDelivery`, `proof_of_delivery` and `delivery_proofs` alike."""
    return frozenset(singular(w) for w in snake(name).split("_") if w and w not in _LINK_WORDS)


def _words(key: str) -> frozenset[str]:
    """The words of a snake-case name, each singular, without linking words."""
    return frozenset(singular(w) for w in key.split("_") if w and w not in _LINK_WORDS)


def input_from_file(name: str, text: str, *, data: bytes | None = None) -> DesignInput:
    """Turn one file (a design doc, or a bare OpenAPI, DBML or DDL file) into a DesignInput.
    `data`: the file's bytes, when `text` is what `decode_document` made of them: a bare OpenAPI
    file's parser then reads them rather than the text encoded again."""
    inputs = _input_from_file(name, text)
    if data is not None and inputs.openapi:
        # decode_document drops a leading byte order mark, which the text's own UTF-8 lacks.
        return replace(inputs, openapi_utf8=data.removeprefix(_UTF8_BOM))
    return inputs


_UTF8_BOM = "\ufeff".encode()


def _input_from_file(name: str, text: str) -> DesignInput:
    suffix = PurePath(name).suffix.lower()
    base = PurePath(name).name
    if suffix in {".md", ".markdown"}:
        return DesignInput(document=text, document_name=base)
    if suffix in {".yaml", ".yml", ".json"}:
        return DesignInput(openapi=text, field_names=(("openapi", base),))
    if suffix == ".dbml":
        return DesignInput(data_model=text, field_names=(("data_model", base),))
    if suffix == ".sql":
        # DDL, optionally followed by `-- name:` queries, or queries alone.
        if looks_like_ddl(text):
            return DesignInput(data_model=text, field_names=(("data_model", base),))
        return DesignInput(queries=text, field_names=(("queries", base),))
    # No telling suffix: guess from the content.
    stripped = text.lstrip()
    if stripped.startswith("{") or re.match(r"^\s*(openapi|swagger)\s*:", text, re.MULTILINE):
        return DesignInput(openapi=text, field_names=(("openapi", base),))
    if re.search(r"^\s*Table\s+\S+.*\{", text, re.MULTILINE):
        return DesignInput(data_model=text, field_names=(("data_model", base),))
    return DesignInput(document=text, document_name=base)
