import ast
import keyword

import pytest

from apps.endpoints.engine.names import MAX_IDENTIFIER, Names, literal

HOSTILE = [
    "__import__('os').system('id')",
    'x"""; import os; """',
    "a'b\"c",
    "line\nbreak",
    "tab\tand\\backslash",
    "\u202eevil",
    "\uff49\uff4d\uff50\uff4f\uff52\uff54",
    "",
    "'''",
    "\\'",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_literal_reads_back_as_the_same_text(text: str) -> None:
    written = literal(text)
    assert ast.literal_eval(written) == text
    tree = ast.parse(written, mode="eval")
    assert isinstance(tree.body, ast.Constant)
    assert written.isascii()  # no look-alike letter, no bidirectional control as itself


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("class", "class_value"),
        ("match", "match"),
        ("None", "none"),
        ("True", "true"),
        ("list", "list_value"),
        ("__import__", "import_value"),
        ("\uff49\uff4d\uff50\uff4f\uff52\uff54", "import_value"),
        ("customerId", "customer_id"),
        ("123abc", "item_123abc"),
        ("objects", "objects_value"),
        ("\"); os.system('x') #", "os_system_x"),
        ("日本", "item"),
    ],
)
def test_a_name_becomes_a_safe_identifier(raw: str, expected: str) -> None:
    name = Names("module").claim(raw)
    assert name == expected
    assert name.isidentifier() and name.isascii()
    assert not keyword.iskeyword(name) and not name.startswith("_")


def test_colliding_names_are_numbered_and_listed() -> None:
    names = Names("module")
    assert [names.claim(r) for r in ("customer_id", "customerId", "Customer-Id")] == [
        "customer_id",
        "customer_id_2",
        "customer_id_3",
    ]
    assert [(r.original, r.name) for r in names.renamed] == [
        ("customerId", "customer_id_2"),
        ("Customer-Id", "customer_id_3"),
    ]


def test_builtins_are_kept_as_attributes_but_not_at_module_level() -> None:
    assert Names("Order", module_level=False).claim("type") == "type"
    assert Names("module").claim("type") == "type_value"


def test_a_long_name_is_cut_with_a_digest_of_the_whole_so_two_stay_apart() -> None:
    names = Names("module")
    first = names.claim("device app management " * 4 + "one", style="camel")
    second = names.claim("device app management " * 4 + "two", style="camel")
    assert len(first) == len(second) == MAX_IDENTIFIER
    assert first != second and first.isidentifier()
