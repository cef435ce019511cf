"""Text helpers shared by the parsers: decoding pasted bytes, turning offsets into lines, and
refusing what PostgreSQL cannot store (checked here for the engine and by the edges' forms), and
long case-insensitive patterns told quickly that plain text cannot match them."""

from __future__ import annotations

import bisect
import re

from apps.designs.engine.model import Problem, SourceRef

_NEWLINE = re.compile(r"\n")
# PostgreSQL's text and jsonb hold no NUL, and UTF-8 cannot encode a lone surrogate (a Python str
# holds one only when it came from a `\ud800` escape or from bytes decoded leniently).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# The same characters written as JSON escapes, unless the backslash is itself escaped. A high
# surrogate escape followed by a low one is one ordinary character (an emoji, say).
_UNSTORABLE_ESCAPE = re.compile(
    r"(?<!\\)(?:\\\\)*("
    r"\\u0000"
    r"|\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2})"
)
# What every such escape starts with, found by the regex engine's fast search for a literal where
# the whole pattern is tried at each character (a second on a 20 MB text): a text without it,
# the usual one even when it escapes other characters (\u00e9), is not searched further.
_ESCAPE_CANDIDATE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_ESCAPE_CANDIDATE_UTF8 = re.compile(_ESCAPE_CANDIDATE.pattern.encode())


class InputError(Exception):
    """Raised by a parser for a problem that stops it; carries the Problem to report."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def decode_document(data: bytes, *, document: str) -> str:
    """Decode pasted or uploaded bytes as UTF-8, naming the line of the first bad byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(
            Problem(
                code="input.not-utf8",
                message=f"{document} is not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line}, column {column} cannot be decoded",
                source=SourceRef(document, line, column),
                fix="Save the file as UTF-8 (most editors offer 'Save with encoding') and paste it again.",
                fatal=True,
            )
        ) from None
    return text.removeprefix("\ufeff")


class LineIndex:
    """Maps character offsets of a text to 1-based line and column numbers."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]

    def position(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self._starts, offset) - 1
        return index + 1, offset - self._starts[index] + 1


def byte_to_char_offset(text: str, byte_offset: int) -> int:
    """PostgreSQL's parser reports byte offsets into the UTF-8 text; Python indexes characters."""
    if text.isascii():
        return byte_offset
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


def unstorable_at(text: str) -> int | None:
    """Offset of the first character PostgreSQL cannot store (NUL, a lone surrogate), or None."""
    nul = text.find("\x00")
    if text.isascii():
        return nul if nul >= 0 else None
    try:  # surrogates are rare: the encoder (C speed) finds one, a regex scan costs four times more
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return min(exc.start, nul) if nul >= 0 else exc.start
    return nul if nul >= 0 else None


def utf8_storable(text: str, encoded: bytes | None = None) -> tuple[bytes, int | None]:
    """(the text in UTF-8, a lone surrogate written as such; `unstorable_at(text)`), from one
    pass of the encoder where both would take one each. A caller measures the text by the bytes,
    and a parser given them need not encode the text again (a large API is megabytes of text).
    `encoded`: the bytes the text was decoded from as UTF-8, when the caller has them (a file's):
    they are the answer, and the text is not encoded at all."""
    if encoded is not None:  # strict UTF-8 decodes to no lone surrogate; a NUL is searched below
        return encoded, text.find("\x00") if b"\x00" in encoded else None
    if text.isascii():
        nul = text.find("\x00")
        return text.encode(), nul if nul >= 0 else None
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        nul = text.find("\x00")
        return text.encode("utf-8", "surrogatepass"), min(exc.start, nul) if nul >= 0 else exc.start
    # A NUL is the only character with a 0 byte in UTF-8: the bytes are searched (a text with one
    # character past U+00FF holds two bytes a character, its UTF-8 mostly one), the text only
    # for the offset of one that is there.
    return encoded, text.find("\x00") if b"\x00" in encoded else None


def unstorable_escape_at(text: str, utf8: bytes | None = None) -> int | None:
    """Offset of the first JSON escape (`\\u0000`, a lone `\\ud800`) that would load as such a
    character, or None. `utf8`, the text in UTF-8 if the caller has it, is looked at first (it is
    searched faster than a text holding a character past U+00FF, which takes two bytes a
    character: each ASCII character is one byte in UTF-8, found in no other character's bytes)."""
    candidate = _ESCAPE_CANDIDATE_UTF8.search(utf8) if utf8 is not None else _ESCAPE_CANDIDATE.search(text)
    if candidate is None:
        return None
    match = _UNSTORABLE_ESCAPE.search(text)
    return match.start(1) if match else None


def describe_unstorable(char: str) -> str:
    if char == "\x00":
        return "a NUL character (U+0000)"
    return f"a lone surrogate (U+{ord(char):04X}, half of a character pair)"


def unstorable_problem(*, document: str, line: int, column: int, what: str) -> Problem:
    """The fatal problem for an unstorable character at that place; `what` describes it."""
    return Problem(
        code="input.unstorable-text",
        message=f"{document} holds {what} at line {line}, column {column}, which cannot be stored or analysed",
        source=SourceRef(document, line, column),
        fix="Delete that character (NUL usually comes from a binary file or a broken copy; a lone \\ud800-\\udfff "
        "escape needs its pair) and paste the text again.",
        fatal=True,
    )


def check_storable(text: str, *, document: str, line_offset: int = 0) -> None:
    """Raise InputError naming the line of the first character PostgreSQL cannot store."""
    offset = unstorable_at(text)
    if offset is not None:
        _raise_unstorable(text, offset, describe_unstorable(text[offset]), document, line_offset)


def check_json_escapes(text: str, *, document: str, line_offset: int = 0, utf8: bytes | None = None) -> None:
    """Raise InputError naming the line of the first JSON escape that would load as a character
    PostgreSQL cannot store (`\\u0000`, a lone `\\ud800`). `utf8`: the text in UTF-8, if known."""
    offset = unstorable_escape_at(text, utf8)
    if offset is not None:
        escape = text[offset : offset + 6]
        what = f"the escape {escape}, {describe_unstorable(chr(int(escape[2:], 16)))},"
        _raise_unstorable(text, offset, what, document, line_offset)


def _raise_unstorable(text: str, offset: int, what: str, document: str, line_offset: int) -> None:
    line, column = LineIndex(text).position(offset)
    raise InputError(unstorable_problem(document=document, line=line + line_offset, column=column, what=what))


_NAME_FORBIDDEN = re.compile(r"[/\\\x00-\x1f\x7f]")


def document_name_problem(name: str) -> Problem | None:
    """Why a document name cannot be used, or None. Names appear in links to their lines
    (`.../source/<name>`), so a slash, a backslash, `.`/`..` or a control character is refused."""
    bad = _NAME_FORBIDDEN.search(name)
    if bad is not None:
        reason = f"it contains {bad.group()!a}"
    elif name in {".", ".."}:
        reason = "it names a directory, not a document"
    elif unstorable_at(name) is not None:
        reason = "it contains a lone surrogate"
    else:
        return None
    return Problem(
        code="input.bad-document-name",
        message=f"the document name {name!a} cannot be used: {reason}, and a name must work in a link to its lines",
        source=SourceRef("document name", 1, 1),
        fix="Name the document without slashes, backslashes or control characters, e.g. orders-design.md.",
        fatal=True,
    )


class Prefiltered:
    """A case-insensitive pattern with its needles: lowercase ASCII strings, one of which every
    match contains (each alternative of the pattern holds one). ASCII text holding none of them
    cannot match, and is told so without running the pattern; other text runs it. The patterns
    here are long alternations searched over every operation's words, where the regex engine
    tries each alternative at each character (about 20 us on a Stripe summary) and an absent
    needle is found in well under one."""

    __slots__ = ("needles", "pattern")

    def __init__(self, pattern: re.Pattern[str], needles: tuple[str, ...]) -> None:
        self.pattern = pattern
        self.needles = needles

    def excludes(self, text: str) -> bool:
        """Whether the pattern cannot match `text`, nor any line of it: ASCII text holding none
        of the needles in any case. For ASCII text ignoring case is lowering it (for other text,
        a few non-ASCII letters match ASCII ones: the pattern decides)."""
        if not text.isascii():
            return False
        lowered = text.lower()
        # A loop, not all() over a generator: run for every operation, and about twice as fast.
        for needle in self.needles:  # noqa: SIM110
            if needle in lowered:
                return False
        return True

    def search(self, text: str) -> re.Match[str] | None:
        """`pattern.search(text)`."""
        return None if self.excludes(text) else self.pattern.search(text)
