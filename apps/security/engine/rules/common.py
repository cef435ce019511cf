"""What several rule modules look up: a local `$ref` followed, the operations of the document,
and what a parameter's or field's name alone says (an id, a URL, a page size, a credential)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any

from apps.designs.engine.model import ApiDocument
from apps.designs.engine.openapi import HTTP_METHODS, PAGE_SIZE_PARAMS
from apps.designs.engine.structured import resolve_pointer

_CREDENTIAL_NAME = re.compile(
    r"^.*(client_?secret|token|access_?token|refresh_?token|id_?token|password|secret|api-?key).*$", re.IGNORECASE
)
_URL_NAME = re.compile(r"(^(callback|redirect)|(_url|Url|-url))$")
_ID_NAME = re.compile(r"(_id|Id|-id)$")


def deref(doc: ApiDocument, node: Any, where: str) -> tuple[Any, str]:
    """Follow local refs; returns the target and the pointer of where it is written."""
    hops = 0
    while type(node) is dict and "$ref" in node and hops < 32:
        ref = node["$ref"]
        if type(ref) is not str or not ref.startswith("#"):
            break
        where = ref[1:]
        node = doc.resolve(ref) if doc.resolve is not None else resolve_pointer(doc.data, where)
        hops += 1
    return node, where


def each_operation(doc: ApiDocument) -> Iterator[tuple[str, str, Mapping[str, Any], Mapping[str, Any]]]:
    paths = doc.data.get("paths")
    if not isinstance(paths, dict):
        return
    for path, item in paths.items():
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:  # a path has a few of them: tested without a `get` each
            if method in item and isinstance(operation := item[method], dict):
                yield path if type(path) is str else str(path), method, item, operation


# Parameter names repeat across a large API (its paging, filters and ids): what a name alone says
# is worked out once per name.
@functools.lru_cache(maxsize=8192)
def name_facts(name: str) -> tuple[bool, bool, bool]:
    """(an id by its name, a URL by its name, a page size by its name)."""
    return bool(name == "id" or _ID_NAME.search(name)), bool(_URL_NAME.search(name)), name.lower() in PAGE_SIZE_PARAMS


@functools.lru_cache(maxsize=8192)
def credential_name(name: str) -> bool:
    return _CREDENTIAL_NAME.match(name) is not None
