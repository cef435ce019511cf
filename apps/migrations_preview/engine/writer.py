"""The migration file a team takes away: Django's writer, made safe for every name a design holds.

Django's own `quote_name` does not double a `"` inside a name, and its schema editor formats
statements with `%` placeholders, so a stock Django project cannot write a table or column whose
name holds `"` or `%` (nor an expression holding `%` beside a default): the SQL it would run is
broken or, for a crafted name, someone else's SQL. For such a design the file keeps Django's
state operations exactly and runs, as its database side, the SQL this preview wrote, proved in
the sandbox and shows (`RunSQL`, executed as written, without formatting).
"""

from __future__ import annotations

import re

from django.db.migrations import operations
from django.db.migrations.migration import Migration
from django.db.migrations.writer import MigrationWriter

from apps.designs.engine.identifiers import printable
from apps.designs.engine.model import DesignModel
from apps.migrations_preview.engine.backend.base import PERCENT_MARK

# PERCENT_MARK as the writer prints it inside a string literal (not after an escaped backslash).
_MARK_IN_SOURCE = re.compile(r"(?<!\\)((?:\\\\)*)" + re.escape(PERCENT_MARK.encode("unicode_escape").decode()))


def migration_source(migration: Migration) -> str:
    """The file Django's writer prints, with the design's `%` as `%%` in raw SQL expressions (how
    Django's formatting of constraint and default SQL expects them)."""
    return percent_marks_as_sql(MigrationWriter(migration).as_string())


def percent_marks_as_sql(source: str) -> str:
    """Python source holding the design's expressions (a migration, or models.py written from the
    same states) with each `%` mark written `%%`, as Django's raw SQL expressions expect."""
    return _MARK_IN_SOURCE.sub(lambda match: match.group(1) + "%%", source)


def names_django_cannot_write(*designs: DesignModel | None) -> list[str]:
    """The design's names (and expressions) that a stock Django schema editor would write wrongly."""
    found: list[str] = []
    for design in designs:
        for entity in design.entities if design is not None else ():
            names = [entity.name, *(c.name for c in entity.columns)]
            names += [
                c.name for c in (*entity.uniques, *entity.indexes, *entity.checks, *entity.foreign_keys) if c.name
            ]
            found += [f"`{printable(n)}`" for n in names if '"' in n or "%" in n]
            # A quoted literal default is a parameter to Django; any other expression is raw SQL.
            expressions = [c.default for c in entity.columns if c.default and not c.default.startswith("'")]
            expressions += [c.expression for c in entity.checks]
            expressions += [i.where for i in (*entity.uniques, *entity.indexes) if i.where]
            expressions += [
                c for i in entity.indexes for c in i.columns if c not in {col.name for col in entity.columns}
            ]
            if any("%" in e for e in expressions):
                found.append(f"an expression of {printable(entity.name)} with `%`")
    return list(dict.fromkeys(found))


def with_verbatim_sql(migration: Migration, forward: tuple[str, ...], rollback: tuple[str, ...]) -> Migration:
    """The migration with Django's state operations kept and the previewed SQL as its database side."""
    statements = [s for s in forward if not _is_comment(s)]
    undo = [s for s in rollback if not _is_comment(s)]
    verbatim = Migration(migration.name, migration.app_label)
    verbatim.initial = migration.initial
    verbatim.atomic = migration.atomic
    verbatim.dependencies = list(migration.dependencies)
    verbatim.operations = [
        operations.SeparateDatabaseAndState(
            state_operations=list(migration.operations),
            database_operations=[operations.RunSQL(statements, reverse_sql=undo)],
        )
    ]
    return verbatim


def _is_comment(statement: str) -> bool:
    return all(line.startswith("--") or not line.strip() for line in statement.splitlines())
