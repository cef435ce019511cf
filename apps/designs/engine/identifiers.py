"""Names from a paste that become PostgreSQL identifiers: checked where they are parsed, quoted
by us wherever they are written.

PostgreSQL accepts almost any text as a quoted identifier (`"c""int);SELECT 1--"` is a column
named `c"int);SELECT 1--`), so such a name is kept as the design wrote it and quoted with its
`"` doubled. What cannot be kept: NUL (PostgreSQL cannot store it, and its parser stops there),
an empty name, control characters (a line break in a name would end a comment line of the
generated migration file and start code), and names longer than 63 bytes, which PostgreSQL
truncates silently, so two names could become one.
"""

from __future__ import annotations

import hashlib
import unicodedata

from apps.designs.engine.model import Problem, SourceRef

MAX_IDENTIFIER_BYTES = 63  # NAMEDATALEN - 1


def quote_identifier(name: str) -> str:
    """`name` as a PostgreSQL quoted identifier, whatever it holds (its `"` doubled)."""
    return '"' + name.replace('"', '""') + '"'


def written_identifier(name: str) -> str:
    """`name` as a reader would write it for PostgreSQL: bare when it reads back as itself (plain
    lower-case ASCII and no reserved word), else quoted (`quote_identifier`)."""
    from pglast.keywords import RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS

    plain = name.isidentifier() and name.isascii() and name == name.lower()
    if plain and name not in RESERVED_KEYWORDS and name not in TYPE_FUNC_NAME_KEYWORDS:
        return name
    return quote_identifier(name)


def identifier_error(name: str) -> str | None:
    """Why `name` cannot be a PostgreSQL identifier of the design, or None when it can."""
    if not name:
        return "is empty"
    if "\x00" in name:
        return "contains a NUL character, which PostgreSQL cannot store"
    for char in name:
        if unicodedata.category(char) == "Cc":
            return f"contains the control character U+{ord(char):04X}"
        if 0xFDD0 <= ord(char) <= 0xFDEF or ord(char) & 0xFFFE == 0xFFFE:
            return f"contains the Unicode noncharacter U+{ord(char):04X}, which is reserved for internal use"
        if unicodedata.category(char) == "Cs":
            return f"contains the lone surrogate U+{ord(char):04X}, which is not text"
    size = len(name.encode("utf-8", errors="surrogatepass"))
    if size > MAX_IDENTIFIER_BYTES:
        return (
            f"is {size} bytes long; PostgreSQL truncates names to {MAX_IDENTIFIER_BYTES} bytes, "
            "so two names could become the same"
        )
    return None


def printable(name: str, *, limit: int = 80) -> str:
    """A name as a message may show it: control characters escaped, long names cut."""
    shown = "".join(f"\\u{ord(c):04x}" if unicodedata.category(c) in {"Cc", "Cs"} else c for c in name)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def identifier_problem(name: str, *, what: str, source: SourceRef, code: str) -> Problem | None:
    """A blocking problem on the name's line when it cannot be an identifier, else None.

    `what` says what the name is ("table", "column orders.total", ...); `code` prefixes the
    problem's code (`ddl`, `dbml`).
    """
    error = identifier_error(name)
    if error is None:
        return None
    return Problem(
        code=f"{code}.invalid-name",
        message=f"the {what} name `{printable(name)}` {error}",
        source=source,
        fix=f"Rename it: at most {MAX_IDENTIFIER_BYTES} bytes in UTF-8, without NUL or control characters.",
        fatal=True,
    )


def bounded_name(*parts: str, suffix: str, max_chars: int = MAX_IDENTIFIER_BYTES) -> str:
    """A deterministic constraint or index name made from `parts`: a digest of all of them keeps
    it unique, and it is cut to `max_chars` characters and 63 bytes, never inside a character,
    so PostgreSQL keeps it whole."""
    raw = "_".join(parts)
    digest = hashlib.sha256(raw.encode("utf-8", errors="surrogatepass")).hexdigest()[:8]
    tail = f"_{digest}_{suffix}"
    head = raw[: max(0, max_chars - len(tail))]
    while len((head + tail).encode("utf-8", errors="surrogatepass")) > MAX_IDENTIFIER_BYTES:
        head = head[:-1]
    return head + tail
