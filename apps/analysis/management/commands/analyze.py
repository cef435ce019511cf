"""`manage.py analyze FILE`: the same pipeline as the web app, for scripts and CI.

Exit codes: 0 clean, 1 a finding at or above --fail-on, 2 the input cannot be analysed.
No database is needed: nothing is stored.
"""

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.analysis.engine.pipeline import ANALYZER_NAMES, UnknownAnalyzerError, analyze
from apps.analysis.services import analyzer_context, tool_version
from apps.designs.engine.loader import DesignInput, input_from_file
from apps.designs.engine.model import SEVERITIES
from apps.designs.engine.text import InputError, decode_document
from apps.designs.services import parse_limits
from apps.reports.engine.report import build_report, worst_severity_at_least
from apps.reports.services import ExportFailed, report_export, report_render


class CannotAnalyse(Exception):
    pass


class Command(BaseCommand):
    help = "Analyse a design document (or a bare OpenAPI, DBML or DDL file) and print the report."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file",
            help="a Markdown design document, or an OpenAPI (.yaml/.json), DBML or SQL file",
        )
        parser.add_argument(
            "--base",
            help="the previous revision, for analyzers that compare two (migrations)",
        )
        parser.add_argument(
            "--only",
            help=f"comma-separated analyzers to run: {', '.join(ANALYZER_NAMES)}",
        )
        parser.add_argument(
            "--renames",
            choices=("detect", "drop-add"),
            default="detect",
            help="with --base: preview a changed column or table name as a rename (default) or as a drop and an add",
        )
        parser.add_argument(
            "--prove",
            action="store_true",
            help="prove the generated endpoints: run the project's check, makemigrations, migrate, ruff and "
            "schema in a confined child on a sandbox database, and report its OpenAPI's drift from the pasted one",
        )
        parser.add_argument(
            "--format",
            choices=("json", "md", "sarif", "html", "pdf"),
            default="json",
            help="json (the full report), md (for a pull request), sarif, html (one self-contained file) "
            "or pdf (printed from the HTML by headless Chromium; needs -o or a redirected output)",
        )
        parser.add_argument(
            "--fail-on",
            choices=SEVERITIES,
            help="exit 1 when a finding at or above this severity exists",
        )
        parser.add_argument(
            "--output",
            "-o",
            help="write the report to this file instead of standard output",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            code = self._run(options)
        except CannotAnalyse as exc:
            self.stderr.write(f"cannot analyse: {exc}")
            sys.exit(2)
        if code:
            sys.exit(code)

    def _read(self, name: str) -> DesignInput:
        path = Path(name)
        if not path.is_file():
            raise CannotAnalyse(f"{name}: no such file")
        limits = parse_limits()
        if path.stat().st_size > limits.max_document_bytes:
            raise CannotAnalyse(
                f"{name} is larger than the {limits.max_document_bytes // (1024 * 1024)} MB limit (DESIGN_MAX_DOCUMENT_BYTES)"
            )
        data = path.read_bytes()
        try:
            text = decode_document(data, document=path.name)
        except InputError as exc:
            raise CannotAnalyse(exc.problem.message) from None
        return input_from_file(path.name, text, data=data)  # the parser reads the bytes as they are

    def _run(self, options: dict[str, Any]) -> int:
        inputs = self._read(options["file"])
        base = self._read(options["base"]) if options.get("base") else None
        only = tuple(n.strip() for n in options["only"].split(",") if n.strip()) if options.get("only") else None
        try:
            outcome = analyze(
                inputs,
                limits=parse_limits(),
                base=base,
                only=only,
                context=analyzer_context(
                    with_sandbox=True, with_proof=options["prove"], detect_renames=options["renames"] == "detect"
                ),
            )
        except UnknownAnalyzerError as exc:
            raise CannotAnalyse(str(exc)) from None
        if not outcome.analysable:
            first = outcome.parse.fatal[0]
            where = f"{first.source.document}:{first.source.line}" if first.source.line else first.source.document
            raise CannotAnalyse(f"{where}: {first.message}")
        report = build_report(
            outcome,
            generated_at=datetime.now(tz=UTC).isoformat(),
            tool_version=tool_version(),
        )
        if options.get("output"):
            try:
                Path(options["output"]).write_bytes(report_export(report=report, fmt=options["format"]))
            except ExportFailed as exc:
                raise CannotAnalyse(str(exc)) from None
        elif options["format"] == "pdf":
            try:
                data = report_export(report=report, fmt="pdf")
            except ExportFailed as exc:
                raise CannotAnalyse(str(exc)) from None
            self.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            self.stdout.write(report_render(report=report, fmt=options["format"]), ending="")
        if options.get("fail_on") and worst_severity_at_least(report, options["fail_on"]):
            return 1
        return 0
