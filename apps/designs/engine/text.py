"""Text helpers shared by the parsers: decoding pasted bytes and turning offsets into lines."""

from __future__ import annotations

import bisect
import re

from apps.designs.engine.model import Problem, SourceRef

_NEWLINE = re.compile(r"\n")


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
