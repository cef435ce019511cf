"""One uploaded file: read as UTF-8 text and sent to the part of a paste it is (the whole design
document, the OpenAPI document, the data model or the named queries)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath

from apps.designs.engine.loader import looks_like_ddl
from apps.designs.engine.model import Problem, SourceRef
from apps.designs.engine.text import InputError, decode_document

ACCEPTED_KINDS = (
    "a Markdown design document (.md), an OpenAPI 3.0/3.1 document (.yaml, .yml or .json), "
    "a DBML data model (.dbml), or PostgreSQL DDL or `-- name:` queries (.sql)"
)
# For the file input's `accept`: what a file picker offers first (anything can still be chosen).
ACCEPT_ATTRIBUTE = ".md,.markdown,.yaml,.yml,.json,.dbml,.sql,.txt"

_BY_SUFFIX = {
    ".md": "document",
    ".markdown": "document",
    ".yaml": "openapi",
    ".yml": "openapi",
    ".json": "openapi",
    ".dbml": "data_model",
}
_NAMED_QUERY = re.compile(r"^\s*--\s*name\s*:", re.IGNORECASE | re.MULTILINE)
_OPENAPI_YAML = re.compile(r"^(openapi|swagger)\s*:", re.MULTILINE)
_OPENAPI_JSON = re.compile(r'^\s*\{.*?"(openapi|swagger)"\s*:', re.DOTALL)
_DBML = re.compile(r"^\s*(Table|Ref|Enum|Project)\b[^\n]*[{:]", re.MULTILINE)
_MARKDOWN = re.compile(r"^(#{1,6}\s+\S|```)", re.MULTILINE)
# How far into a text the content is looked at: the telling lines come first in every kind.
_SNIFF_CHARS = 20_000
_BINARY_SNIFF_BYTES = 8192


@dataclass(frozen=True, slots=True)
class Upload:
    """An uploaded file's text and the paste field it belongs in."""

    field: str  # "document", "openapi", "data_model" or "queries"
    name: str
    text: str


def upload_name(name: str) -> str:
    """The file's own name (no folders), as it is reported; "upload" when it has none."""
    return PurePath(name.replace("\\", "/")).name[:200] or "upload"


def read_upload(data: bytes, *, name: str, max_bytes: int, size: int | None = None) -> Upload:
    """Read an uploaded file and tell which paste field it fills.

    The kind comes from the extension (.md, .yaml/.yml/.json, .dbml), from the content where the
    extension leaves it open (.sql: DDL or named queries) or says nothing (.txt, none, another).
    Raises InputError with a fatal Problem naming the file when it is too large, binary, not
    UTF-8, or of no kind the workbench reads. The text itself is not parsed here. `size` is the
    file's size when it is known before reading (a file over the limit is then refused unread).
    """
    name = upload_name(name)
    if max(len(data), size or 0) > max_bytes:
        raise _refused(
            "upload.too-large",
            f"{name} is larger than the limit of {max_bytes / 1024 / 1024:.0f} MB",
            name,
            "Upload a smaller file (split the API, or drop unused components); the limit is the "
            "DESIGN_MAX_DOCUMENT_BYTES setting.",
        )
    if b"\x00" in data[:_BINARY_SNIFF_BYTES]:
        raise _refused(
            "upload.binary",
            f"{name} is a binary file, not text",
            name,
            f"Upload {ACCEPTED_KINDS}, saved as UTF-8 text.",
        )
    text = decode_document(data, document=name)  # raises InputError naming the file and line
    field = upload_field(name, text)
    if field is None:
        raise _refused(
            "upload.unknown-kind",
            f"{name} is not a kind of file the workbench reads",
            name,
            f"Upload {ACCEPTED_KINDS}. A file with another extension is read when its content "
            "shows its kind (an `openapi:` line, a DBML `Table x {`, CREATE TABLE, a Markdown heading).",
        )
    return Upload(field=field, name=name, text=text)


def upload_field(name: str, text: str) -> str | None:
    """The paste field a file of this name and text belongs in, or None when neither tells."""
    suffix = PurePath(name).suffix.lower()
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    if suffix == ".sql":
        # DDL (optionally followed by named queries) is the data model; named queries alone are
        # the queries. SQL that is neither goes to the data model, whose parser says what it met.
        if not looks_like_ddl(text) and _NAMED_QUERY.search(text):
            return "queries"
        return "data_model"
    head = text[:_SNIFF_CHARS]
    if _OPENAPI_YAML.search(head) or _OPENAPI_JSON.match(head):
        return "openapi"
    if looks_like_ddl(head):
        return "data_model"
    if _NAMED_QUERY.search(head):
        return "queries"
    if _DBML.search(head):
        return "data_model"
    if _MARKDOWN.search(head):
        return "document"
    return None


def _refused(code: str, message: str, name: str, fix: str) -> InputError:
    return InputError(Problem(code=code, message=message, source=SourceRef(name), fix=fix, fatal=True))
