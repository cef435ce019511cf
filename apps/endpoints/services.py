"""Writing a generated app to disk or a zip: the edge around the pure generator."""

from __future__ import annotations

import base64
import io
import json
import zipfile
import zlib
from pathlib import Path
from typing import Any

from apps.designs.engine.loader import DesignInput, parse_design
from apps.designs.services import parse_limits
from apps.endpoints.engine.generate import CannotGenerate, GeneratedFile, generate_app
from apps.endpoints.engine.project import project_files

# Every entry of a zip gets this time, so that the same design gives the same bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class GenerationRefused(Exception):
    """The design cannot be generated at all; the message is one line saying why."""


def generation_files(*, inputs: DesignInput, max_page_size: int) -> tuple[GeneratedFile, ...]:
    """Parse the design and generate the app and its project (raises GenerationRefused)."""
    parsed = parse_design(inputs, limits=parse_limits())
    if not parsed.ok:
        first = parsed.fatal[0]
        where = f"{first.source.document}:{first.source.line}" if first.source.line else first.source.document
        raise GenerationRefused(f"{where}: {first.message}")
    try:
        generation = generate_app(parsed.model, max_page_size=max_page_size)
    except CannotGenerate as exc:
        raise GenerationRefused(str(exc)) from None
    return project_files(generation)


def generation_write(*, files: tuple[GeneratedFile, ...], target: Path) -> None:
    """Write the files under `target` (created if absent); paths are the generator's own."""
    for file in files:
        path = target / file.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(file.content, encoding="utf-8")


def generation_zip(*, files: tuple[GeneratedFile, ...]) -> bytes:
    """The files as a zip whose bytes depend on the files only."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(files, key=lambda f: f.path):
            info = zipfile.ZipInfo(file.path, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, file.content.encode("utf-8"))
    return buffer.getvalue()


# The parts of the report's `endpoints` section stored compressed on the run: a large API's
# generated code is megabytes of text (GitHub's 1.5 MB, Microsoft Graph's 14 MB) that compresses
# about fifteenfold, and the run row is read whole.
_PACKED_KEYS = ("operations", "files")


def endpoints_section_pack(section: dict[str, Any]) -> dict[str, Any]:
    """The section as stored: its operations and files as one zlib-compressed JSON, base64."""
    if "packed" in section:
        return section
    packed = {key: section.get(key, []) for key in _PACKED_KEYS}
    blob = zlib.compress(json.dumps(packed, separators=(",", ":")).encode("utf-8"), 6)
    rest = {key: value for key, value in section.items() if key not in _PACKED_KEYS}
    return {**rest, "packed": base64.b64encode(blob).decode("ascii")}


def endpoints_section_unpack(stored: dict[str, Any], *, in_report_order: bool = True) -> dict[str, Any]:
    """The section as the report has it (the stored one unpacked; an unpacked one as it is).
    `in_report_order=False` leaves its keys as they were packed: enough for counting, and what
    the run page's summary does (putting a large API's operations in order costs tens of ms)."""
    if "packed" not in stored:
        return stored
    unpacked = json.loads(zlib.decompress(base64.b64decode(stored["packed"])))
    rest = {key: value for key, value in stored.items() if key != "packed"}
    return _in_jsonb_order({**rest, **unpacked}) if in_report_order else {**rest, **unpacked}


def _in_jsonb_order(value: Any) -> Any:
    """Objects with their keys in the order PostgreSQL's jsonb keeps them (shorter first, then
    bytewise), the order every other part of a stored report is read back in."""
    if isinstance(value, dict):
        return {k: _in_jsonb_order(value[k]) for k in sorted(value, key=lambda k: (len(k.encode()), k.encode()))}
    if isinstance(value, list):
        return [_in_jsonb_order(item) for item in value]
    return value
