"""Expressions a design may hold in a CHECK or DEFAULT, and queries the plan analysis may run, never
build a string without bound: a growing text function may not take another's result, and the
functions that pad or repeat to a length a number asks are not allowed."""

import pytest

from apps.designs.engine.expressions import expression_error, parse_expression
from apps.queryplans.engine.allowlist import check_query

COLUMNS = frozenset({"body", "phone"})


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("length(replace(replace(body, 'x', 'xxxxxxxxxx'), 'x', 'xxxxxxxxxx')) > 0", "replace(replace())"),
        ("length(concat(regexp_replace(body, '.', 'aa', 'g'), body)) > 0", "concat(regexp_replace())"),
        ("length(lpad(body, 100000000)) > 0", "lpad()"),
        ("length(rpad(body, 100000000)) > 0", "rpad()"),
    ],
)
def test_a_check_that_grows_text_without_bound_is_refused(text: str, refused: str) -> None:
    error = expression_error(parse_expression(text), columns=COLUMNS)
    assert error is not None and refused in error


@pytest.mark.parametrize(
    "text",
    ["replace(phone, ' ', '') <> ''", "length(concat(body, phone)) < 500", "lower(replace(body, 'a', 'b')) <> ''"],
)
def test_one_growing_function_at_a_time_is_allowed(text: str) -> None:
    assert expression_error(parse_expression(text), columns=COLUMNS) is None


def test_the_plan_analysis_refuses_nested_growth_too() -> None:
    nested = "SELECT length(replace(replace('x', 'x', 'xxxxxxxxxx'), 'x', 'xxxxxxxxxx')) FROM notes"
    verdict = check_query(nested, tables=["notes"])
    assert not verdict.allowed and "replace(replace())" in verdict.reason
    assert check_query("SELECT replace(body, 'a', 'b') FROM notes", tables=["notes"]).allowed
