"""Checks at the edges for text PostgreSQL cannot store, for fields no Django or DRF form field
reads (raw POST and query parameters); the parsers check pasted designs themselves."""

from django.core.exceptions import ValidationError

from apps.designs.engine.text import LineIndex, describe_unstorable, unstorable_at


def require_storable(value: str, *, field: str, label: str) -> str:
    """`value` unchanged, or ValidationError({field: ...}) naming the line of a NUL or lone
    surrogate, which text and jsonb columns refuse (a DataError, then a 500, if it got there)."""
    offset = unstorable_at(value)
    if offset is None:
        return value
    line, column = LineIndex(value).position(offset)
    raise ValidationError(
        {
            field: f"The {label} holds {describe_unstorable(value[offset])} at line {line}, column {column}, "
            "which cannot be stored. Delete it and send the text again."
        }
    )
