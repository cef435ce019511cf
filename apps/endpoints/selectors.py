"""Reads for the endpoints tab of a run: the generated files from the stored report, never from
disk. Nothing here writes."""

from __future__ import annotations

import posixpath
from collections import Counter
from typing import Any

from django.conf import settings
from django.http import Http404
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import MarkdownLexer, PythonLexer, TextLexer, TOMLLexer

from apps.analysis.models import AnalysisRun
from apps.endpoints.engine.generate import GeneratedFile
from apps.endpoints.services import endpoints_section_unpack, generation_zip

_LEXERS: dict[str, type[Lexer]] = {".py": PythonLexer, ".toml": TOMLLexer, ".md": MarkdownLexer}


def safe_path(path: object) -> bool:
    """Whether a report's file path may name a download or a zip entry: relative, normalised,
    without `..`, backslashes or control characters (the report is ours, but a path becomes a
    file name on the user's disk when the zip is unpacked)."""
    if not isinstance(path, str) or not path or path.startswith("/") or "\\" in path:
        return False
    if any(ord(c) < 32 for c in path) or posixpath.normpath(path) != path:
        return False
    return all(part not in {"", ".", ".."} for part in path.split("/"))


def endpoints_section_get(*, run: AnalysisRun) -> dict[str, Any] | None:
    """The run's `endpoints` section unpacked (None when the run has none)."""
    stored = (run.report or {}).get("endpoints") if run.is_finished else None
    return endpoints_section_unpack(stored) if isinstance(stored, dict) else None


def endpoints_files(section: dict[str, Any]) -> list[dict[str, str]]:
    """The section's files whose paths are safe, sorted by path."""
    files = [f for f in section.get("files", []) if safe_path(f.get("path")) and isinstance(f.get("content"), str)]
    return sorted(files, key=lambda f: f["path"])


def endpoints_summary(section: dict[str, Any] | None) -> dict[str, Any] | None:
    """How many operations were generated and not, with each reason and its count (most first)."""
    if section is None:
        return None
    operations = section.get("operations", [])
    reasons = Counter(o.get("reason") or "no reason given" for o in operations if not o.get("generated"))
    generated = sum(1 for o in operations if o.get("generated"))
    return {
        "total": len(operations),
        "generated": generated,
        "not_generated": len(operations) - generated,
        "reasons": reasons.most_common(),
        "files": len(section.get("files", [])),
    }


def _analyzer_entry(run: AnalysisRun) -> dict[str, Any] | None:
    for entry in (run.report or {}).get("analyzers", []):
        if entry.get("name") == "endpoints":
            return entry
    return None


def _tree(files: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The files grouped by folder, folders in path order ("" is the project's root)."""
    folders: dict[str, list[dict[str, str]]] = {}
    for file in files:
        folder, _, name = file["path"].rpartition("/")
        folders.setdefault(folder, []).append({"name": name, "path": file["path"]})
    return [{"folder": folder, "files": folders[folder]} for folder in sorted(folders)]


def highlighted(text: str, path: str) -> SafeString:
    """Pygments' HTML with classes only (static/css/highlight.css styles them: the CSP allows no
    inline style); beyond the highlight limit, the text escaped and plain."""
    if len(text) > settings.MIGRATION_HIGHLIGHT_MAX_CHARS:
        return mark_safe(f'<div class="highlight"><pre>{escape(text)}</pre></div>')  # noqa: S308 - escaped above
    lexer = _LEXERS.get(posixpath.splitext(path)[1], TextLexer)
    return mark_safe(highlight(text, lexer(), HtmlFormatter(cssclass="highlight")))  # noqa: S308 - Pygments escapes


# The proof's steps in the order they run; a report may carry others (shown after these).
_PROOF_ORDER = ("check", "makemigrations", "migrate", "ruff", "schema", "contract_tests")


def proof_view(proof: object) -> dict[str, Any]:
    """The report's `proof` as the tab states it, nothing inferred: `ran` only when the report
    holds step results; otherwise its status ("not built yet", "not run") and reason verbatim."""
    if not isinstance(proof, dict) or not proof:
        return {"status": "not in this report", "reason": "", "ran": False, "steps": [], "drift": None}
    steps = [name for name in proof if isinstance(proof[name], dict) and name != "drift"]
    steps.sort(key=lambda n: (_PROOF_ORDER.index(n) if n in _PROOF_ORDER else len(_PROOF_ORDER), n))
    return {
        "status": str(proof.get("status", "")),
        "reason": str(proof.get("reason", "")),
        "ran": bool(steps),
        "steps": [{"name": name, **proof[name]} for name in steps],
        "drift": proof.get("drift") if isinstance(proof.get("drift"), dict) else None,
        # Calling each operation against synthetic rows is reported only once a step holds it.
        "operations_called": "contract_tests" in steps,
    }


def endpoints_file_get(*, run: AnalysisRun, path: str) -> dict[str, str]:
    """The report's file at exactly `path` (404 when the report lists no such file)."""
    section = endpoints_section_get(run=run)
    if section is None:
        raise Http404("This run has no generated endpoints.")
    for file in endpoints_files(section):
        if file["path"] == path:
            return file
    raise Http404("No such generated file.")


def endpoints_zip_get(*, run: AnalysisRun) -> bytes:
    """The generated files (the app and the minimal project around it) as a zip, built in memory
    with fixed timestamps: its entries are exactly the report's file paths."""
    section = endpoints_section_get(run=run)
    if section is None or not section.get("files"):
        raise Http404("This run has no generated endpoints.")
    return generation_zip(files=tuple(GeneratedFile(f["path"], f["content"]) for f in endpoints_files(section)))


def endpoints_tab_get(*, run: AnalysisRun, path: str | None = None) -> dict[str, Any]:
    """What the endpoints tab shows: the summary, the proof's status as the report states it,
    the file tree and, for `path`, that file highlighted (404 when the report has no such file)."""
    section = endpoints_section_get(run=run)
    entry = _analyzer_entry(run)
    context: dict[str, Any] = {
        "run": run,
        "revision": run.revision,
        "design": run.revision.design,
        "workspace": run.revision.design.workspace,
        "tab": "endpoints",
        "section": section,
        "summary": endpoints_summary(section),
        # Why there is no section: the analyzer was skipped or failed and the report says why.
        "not_run_reason": (entry or {}).get("reason", "") if section is None else "",
        "not_run_status": (entry or {}).get("status", "") if section is None else "",
        "file": None,
    }
    if section is None:
        if path is not None:
            raise Http404("This run has no generated endpoints.")
        return context
    files = endpoints_files(section)
    context.update(
        tree=_tree(files),
        file_count=len(files),
        proof=proof_view(section.get("proof")),
        operations=section.get("operations", []),
    )
    if path is not None:
        file = next((f for f in files if f["path"] == path), None)
        if file is None:
            raise Http404("No such generated file.")
        context.update(file=file, file_html=highlighted(file["content"], file["path"]))
    return context
