"""Django's PostgreSQL backend with identifiers quoted the way PostgreSQL reads them.

Django's `quote_name` wraps a name in double quotes without doubling the ones inside it, and
returns a name that already starts and ends with one as it is: a design's column named
`c"int);SELECT 1--` would end the identifier early and leave the rest as SQL. And the schema
editor formats its statements with `%s` placeholders whenever a default brings parameters, so a
`%` in a name or an expression breaks the statement (or becomes a placeholder). Every previewed
statement (forward, rollback, the sandbox proof and the timing) is written through this backend:
names are quoted with their `"` doubled, and every `%` that comes from the design travels as
PERCENT_MARK (a Unicode noncharacter, refused in names) until the statement is complete, when
it becomes `%` again. The migration preview never hands Django a name that is already quoted.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base, operations, schema

from apps.designs.engine.identifiers import quote_identifier

PERCENT_MARK = "\ufdd0"


def carry_percent(text: str) -> str:
    """Design text (an expression) with its `%` carried as PERCENT_MARK through Django's formatting."""
    return text.replace("%", PERCENT_MARK)


class DatabaseOperations(operations.DatabaseOperations):
    def quote_name(self, name: str) -> str:
        return carry_percent(quote_identifier(name))


class DatabaseSchemaEditor(schema.DatabaseSchemaEditor):
    def execute(self, sql: Any, params: Any = ()) -> None:
        # Django's placeholders are filled first; only then do the design's `%` come back.
        if params is not None:
            sql = self.connection.ops.compose_sql(str(sql), params)
        return super().execute(str(sql).replace(PERCENT_MARK, "%"), None)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
    SchemaEditorClass = DatabaseSchemaEditor
