"""`manage.py generate FILE -o DIR [--zip]`: the Django REST Framework app a design implies, and
the minimal project around it, without the proof. Exit 2 with a one-line reason when the design
cannot be generated at all. No database is needed."""

import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from apps.designs.engine.loader import input_from_file
from apps.designs.engine.text import InputError, decode_document
from apps.designs.services import parse_limits
from apps.endpoints.services import GenerationRefused, generation_files, generation_write, generation_zip


class Command(BaseCommand):
    help = "Generate the Django REST Framework app of a design (and a minimal project around it)."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="a Markdown design document, or an OpenAPI, DBML or SQL file")
        parser.add_argument("-o", "--output", required=True, help="the directory to write (with --zip: the zip file)")
        parser.add_argument("--zip", action="store_true", help="write one zip file instead of a directory")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            files = generation_files(inputs=self._read(options["file"]), max_page_size=settings.ENDPOINTS_MAX_PAGE_SIZE)
        except GenerationRefused as exc:
            self.stderr.write(f"cannot generate: {exc}")
            sys.exit(2)
        target = Path(options["output"])
        if options["zip"]:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(generation_zip(files=files))
        else:
            generation_write(files=files, target=target)
        self.stdout.write(f"wrote {len(files)} files to {target}")

    def _read(self, name: str) -> Any:
        path = Path(name)
        if not path.is_file():
            raise GenerationRefused(f"{name}: no such file")
        limit = parse_limits().max_document_bytes
        if path.stat().st_size > limit:
            raise GenerationRefused(
                f"{name} is larger than the {limit // (1024 * 1024)} MB limit (DESIGN_MAX_DOCUMENT_BYTES)"
            )
        data = path.read_bytes()
        try:
            text = decode_document(data, document=path.name)
        except InputError as exc:
            raise GenerationRefused(exc.problem.message) from None
        return input_from_file(path.name, text, data=data)  # the parser reads the bytes as they are
