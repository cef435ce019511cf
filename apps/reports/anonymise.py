"""Anonymising a shared report: the design's table, column, path and value names replaced
consistently throughout (table_1, column_3, path_2, value_4), so that the structure stays
reviewable while the names do not leak. A pure function over the report's data and the names
of the DesignModel it was made from."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from apps.designs.engine.model import DesignModel

_WORD = re.compile(r"[A-Za-z0-9_]+")
_PATH_PARAMETER = re.compile(r"^\{[^}]*\}$")


@dataclass(frozen=True, slots=True)
class DesignNames:
    """The names to hide, by kind: tables, columns, path segments, values, document (file) names,
    the API's server hosts, operation ids."""

    tables: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    operations: tuple[str, ...] = ()

    def __or__(self, other: DesignNames) -> DesignNames:
        """The names of both (a run's revision and its base revision)."""
        return DesignNames(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


def _schemas(data: Any) -> tuple[list[str], list[str], list[str]]:
    """Schema names, their property names and their enum values from an OpenAPI document."""
    names: list[str] = []
    properties: list[str] = []
    values: list[str] = []
    schemas = ((data or {}).get("components") or {}).get("schemas") or {}
    stack: list[Any] = list(schemas.values()) if isinstance(schemas, dict) else []
    if isinstance(schemas, dict):
        names.extend(str(k) for k in schemas)
    seen = 0
    while stack and seen < 100_000:
        seen += 1
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("properties"), dict):
                properties.extend(str(k) for k in node["properties"])
            if isinstance(node.get("enum"), list):
                values.extend(str(v) for v in node["enum"] if isinstance(v, str))
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, (dict, list)))
    return names, properties, values


def design_names(model: DesignModel) -> DesignNames:
    """The names a DesignModel gives: its tables (and the API's schemas), their columns (and the
    schemas' properties, the parameters), the literal segments of its paths, its enum values, the
    names of its documents (a file's name can name the company or the product), the hosts of its
    API's servers (a staging or internal host names the company and its network), its operations'
    ids (getOrder, exportCustomer)."""
    schema_names, properties, schema_values = _schemas(model.api_document.data if model.api_document else None)
    tables = [e.name for e in model.entities] + [q.name for q in model.queries] + schema_names
    for e in model.entities:
        for constraint in (*e.foreign_keys, *e.uniques, *e.indexes, *e.checks):
            if getattr(constraint, "name", None):
                tables.append(constraint.name)
    columns = [c.name for e in model.entities for c in e.columns] + properties
    columns += [p.name for endpoint in model.endpoints for p in endpoint.parameters]
    paths: list[str] = []
    for endpoint in (*model.endpoints, *model.webhooks):
        for path in {endpoint.path, endpoint.full_path}:
            for segment in path.split("/"):
                if segment and not _PATH_PARAMETER.match(segment):
                    paths.append(segment)
                elif segment:
                    columns.append(segment.strip("{}"))
    values = [v for e in model.entities for c in e.columns for v in c.values] + schema_values
    hosts: list[str] = []
    for server in model.api.servers if model.api else ():
        # https://user@staging-api.example.com:8443/v1: the host with and without its port.
        # Read by hand: urlsplit finds no host behind a templated scheme ({scheme}://host).
        rest = server.partition("://")[2]
        netloc = re.split(r"[/?#]", rest, maxsplit=1)[0].rpartition("@")[2]
        hosts += [netloc, netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc]
    operations = tuple(e.operation_id for e in (*model.endpoints, *model.webhooks) if e.operation_id)
    return DesignNames(
        tuple(tables), tuple(columns), tuple(paths), tuple(values), tuple(model.documents), tuple(hosts), operations
    )


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(n for n in names if n and n.strip()))


def replacements(names: DesignNames) -> dict[str, str]:
    """Each name's stand-in, numbered in order of first appearance per kind. A name of two kinds
    keeps the first kind's (tables, then columns, paths, values): the same name is replaced by
    the same stand-in everywhere."""
    out: dict[str, str] = {}
    for kind, group in (
        ("table", names.tables),
        ("column", names.columns),
        ("path", names.paths),
        ("value", names.values),
        ("document", names.documents),
        ("host", names.hosts),
        ("operation", names.operations),
    ):
        n = 0
        for name in _unique(group):
            if name not in out:
                n += 1
                out[name] = f"{kind}_{n}"
    return out


class Anonymiser:
    """Replaces whole names (bounded by anything but a letter or digit, so that `orders` in
    `orders_customer_idx` and `/orders/{id}` is replaced, and `order` in `ordering` is not),
    the longest first."""

    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping
        names = sorted(mapping, key=len, reverse=True)
        self.pattern = (
            # A JSON pointer escapes / as ~1: /paths/~1orders reads `orders` as a whole name too.
            re.compile(r"(?:(?<=~1)|(?<![A-Za-z0-9]))(?:" + "|".join(re.escape(n) for n in names) + r")(?![A-Za-z0-9])")
            if names
            else None
        )

    def text(self, value: str) -> str:
        if self.pattern is None:
            return value
        return self.pattern.sub(lambda m: self.mapping[m.group(0)], value)

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(k) if isinstance(k, str) else k: self.data(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.data(v) for v in value]
        return value


# Fields whose values are the workbench's own vocabulary (rule ids, severities, states, people,
# times), never a design's names: kept as they are, so that the page still reads them.
KEPT_FIELDS = frozenset(
    {
        "fingerprint",
        "format",
        "generated_at",
        "tool",
        "rule_id",
        "analyzer",
        "severity",
        "category",
        "cwe",
        "status",
        "state",
        "change",
        "source",
        "by",
        "reviewer",
        "at",
        "key",
        "reference",
    }
)


def _schema_keys() -> frozenset[str]:
    """Every property name the report's JSON Schema documents: the report's structure, which
    keeps its keys even where a design has a column of that name (status, name, ...)."""
    found: set[str] = set()
    stack: list[Any] = [json.loads((Path(__file__).parent / "schema" / "report.schema.json").read_text())]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("properties"), dict):
                found.update(node["properties"])
            if isinstance(node.get("required"), list):
                found.update(k for k in node["required"] if isinstance(k, str))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return frozenset(found)


STRUCTURAL_KEYS = _schema_keys()


def anonymise_report(report: dict[str, Any], names: DesignNames) -> dict[str, Any]:
    """A copy of the report (its `review` too) with every design name replaced: titles,
    messages, fixes, SQL, pointers, section data alike. Fingerprints stay (hashes, no names)."""
    anonymiser = Anonymiser(replacements(names))

    def walk(value: Any, key: str | None = None) -> Any:
        if key in KEPT_FIELDS:
            return value
        if isinstance(value, dict):
            return {
                anonymiser.text(k) if isinstance(k, str) and k not in STRUCTURAL_KEYS else k: walk(v, k)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        if isinstance(value, str):
            return anonymiser.text(value)
        return value

    return walk(report)
