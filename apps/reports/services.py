"""Exports of a stored report."""

import json
from typing import Any

import orjson

from apps.reports.engine.report import render_markdown, render_sarif

EXPORT_FORMATS = {
    "json": "application/json",
    "md": "text/markdown; charset=utf-8",
    "sarif": "application/sarif+json",
}
_INDENTED = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE


def indented_json(data: Any) -> str:
    """What `json.dumps(data, indent=2, ensure_ascii=False)` and a newline write, through orjson: the
    standard library's encoder falls back to pure Python when it indents, which cost more than the
    whole analysis of a large specification. The text is the same but for numbers that only a
    float's exponent form writes (1e-7 here, 1e-07 there) and NaN, which is no JSON and is written
    null; what orjson refuses (integers past 64 bits, keys that are not strings) goes through json."""
    try:
        return orjson.dumps(data, option=_INDENTED).decode()
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def indented_json_bytes(data: Any) -> bytes:
    """`indented_json`'s text encoded in UTF-8, as orjson writes it: a large specification's report
    is tens of megabytes, which a file or a response would otherwise decode into text only to
    encode it again."""
    try:
        return orjson.dumps(data, option=_INDENTED)
    except (TypeError, orjson.JSONEncodeError):
        return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()


def report_render(*, report: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return indented_json(report)
    if fmt == "md":
        return render_markdown(report)
    if fmt == "sarif":
        return indented_json(render_sarif(report))
    raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(EXPORT_FORMATS)}")


def report_export(*, report: dict[str, Any], fmt: str) -> bytes:
    """`report_render`'s text in UTF-8, for a file or a download: the JSON formats come as the
    encoder writes them, never made into text."""
    if fmt == "json":
        return indented_json_bytes(report)
    if fmt == "sarif":
        return indented_json_bytes(render_sarif(report))
    return report_render(report=report, fmt=fmt).encode()
