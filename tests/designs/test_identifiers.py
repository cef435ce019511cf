"""Names and expressions from a paste: checked where they are parsed (no database)."""

import pytest

from apps.designs.engine.dbml import parse_dbml
from apps.designs.engine.ddl import parse_ddl
from apps.designs.engine.identifiers import bounded_name, identifier_error, quote_identifier
from apps.designs.engine.text import InputError


def _problems(ddl: str) -> dict[str, list]:
    _, problems = parse_ddl(ddl, document="schema.sql")
    grouped: dict[str, list] = {}
    for problem in problems:
        grouped.setdefault(problem.code, []).append(problem)
    return grouped


def test_a_name_postgresql_accepts_is_kept_exactly_as_written() -> None:
    entities, problems = parse_ddl(
        """CREATE TABLE "or""ders;--" (id bigint PRIMARY KEY, "c""int);SELECT 'injected'--" int, "ünï名前" text);""",
        document="schema.sql",
    )
    assert problems == []
    assert entities[0].name == 'or"ders;--'
    assert [c.name for c in entities[0].columns] == ["id", "c\"int);SELECT 'injected'--", "ünï名前"]


def test_quoting_doubles_every_double_quote() -> None:
    assert quote_identifier('c"int);SELECT 1--') == '"c""int);SELECT 1--"'
    assert quote_identifier('"quoted"') == '"""quoted"""'


@pytest.mark.parametrize(
    ("ddl", "line", "says"),
    [
        ('CREATE TABLE t (\n  id int,\n  "' + "é" * 32 + '" int\n);', 3, "64 bytes long"),
        ('CREATE TABLE "' + "x" * 64 + '" (id int);', 1, "truncates names to 63 bytes"),
        ('CREATE TABLE t (id int,\n "a\nb" int);', 2, "control character U+000A"),
        ('CREATE TABLE t (id int);\nCREATE INDEX "' + "i" * 70 + '" ON t (id);', 2, "70 bytes"),
        ('CREATE TABLE t (id int,\n CONSTRAINT "' + "c" * 64 + '" CHECK (id > 0));', 2, "64 bytes"),
        ('CREATE TABLE t (id int, "bad\ufdd0" int);', 1, "noncharacter"),
        ("CREATE TYPE mood AS ENUM ('happy', '" + "s" * 64 + "');", 1, "value of enum mood"),
    ],
)
def test_a_name_postgresql_would_cut_or_cannot_hold_is_a_blocking_problem_on_its_line(
    ddl: str, line: int, says: str
) -> None:
    problems = _problems(ddl)["ddl.invalid-name"]
    assert problems[0].fatal
    assert problems[0].source.line == line
    assert says in problems[0].message


def test_a_nul_character_is_a_problem_on_its_line_not_the_end_of_the_text() -> None:
    # PostgreSQL's grammar stops at a NUL: what follows would be silently dropped.
    with pytest.raises(InputError) as caught:
        parse_ddl("CREATE TABLE t (id int);\nCREATE TABLE u (id int);\x00\nCREATE TABLE v (id int);", document="s.sql")
    assert caught.value.problem.source.line == 2
    assert caught.value.problem.fatal


def test_dbml_names_are_checked_the_same_way() -> None:
    _, problems = parse_dbml('Table orders {\n  id bigint [pk]\n  "' + "q" * 64 + '" int\n}\n', document="model.dbml")
    assert [p.code for p in problems] == ["dbml.invalid-name"]
    assert problems[0].source.line == 3
    entities, problems = parse_dbml('Table "or\'ders%;--" {\n  id bigint [pk]\n}\n', document="model.dbml")
    assert problems == []
    assert entities[0].name == "or'ders%;--"


def test_identifier_error_accepts_ordinary_and_odd_but_valid_names() -> None:
    for name in ("orders", "select", "x'y", "$$d$$", "100%", "名前", 'a"b', "a" * 63, "é" * 31):
        assert identifier_error(name) is None, name


def test_bounded_names_never_pass_63_bytes_nor_cut_a_character() -> None:
    name = bounded_name("ü" * 40, "名" * 30, suffix="uniq")
    assert len(name.encode()) <= 63
    assert name.endswith("_uniq")
    assert bounded_name("orders", "total", suffix="fk") == bounded_name("orders", "total", suffix="fk")


ALLOWED = [
    "DEFAULT now()",
    "DEFAULT CURRENT_TIMESTAMP",
    "DEFAULT gen_random_uuid()",
    "DEFAULT md5(random()::text)",
    "DEFAULT (now() + interval '1 day')",
    "DEFAULT 'EUR'",
    "DEFAULT COALESCE(NULL, 0)",
    "DEFAULT CASE WHEN random() > 0.5 THEN 1 ELSE 0 END",
    "DEFAULT '{}'::text[]",
    "DEFAULT -1",
]
REFUSED = [
    ("DEFAULT CAST(current_user||' @ '||version() AS int)", "current_user"),
    ("DEFAULT version()::int", "version()"),
    ("DEFAULT (SELECT 1)", "a subquery"),
    ("DEFAULT pg_catalog.current_setting('server_version')::int", "current_setting()"),
    ("DEFAULT 'pg_class'::regclass::int", "regclass"),
    ("DEFAULT length(inet_server_addr()::text)", "inet_server_addr()"),
    ("DEFAULT public.lower('x')::int", "public.lower()"),
    ("DEFAULT length(session_user)", "session_user"),
    ("DEFAULT count(*)", "count()"),
    ("DEFAULT length(current_schema)", "current_schema"),
]


@pytest.mark.parametrize("default", ALLOWED)
def test_an_allow_listed_default_is_kept(default: str) -> None:
    entities, problems = parse_ddl(f"CREATE TABLE t (id int, v int {default});", document="s.sql")
    assert problems == []
    assert entities[0].column("v").default is not None
    assert entities[0].left_out == ()


@pytest.mark.parametrize(("default", "reason"), REFUSED)
def test_a_default_off_the_allow_list_is_a_problem_on_its_line_and_left_out(default: str, reason: str) -> None:
    entities, problems = parse_ddl(f"CREATE TABLE t (\n  id int,\n  v int {default}\n);", document="s.sql")
    [problem] = problems
    assert problem.code == "ddl.expression-refused"
    assert problem.source.line == 3
    assert reason in problem.message
    assert not problem.fatal
    assert entities[0].column("v").default is None
    assert len(entities[0].left_out) == 1 and "DEFAULT of v left out" in entities[0].left_out[0]


@pytest.mark.parametrize(
    ("ddl", "reason"),
    [
        ("CREATE TABLE t (b int CHECK (b > (SELECT count(*) FROM pg_class)));", "a subquery"),
        ("CREATE TABLE t (b text, CHECK (query_to_xml('select 1', true, true, '') IS NOT NULL));", "query_to_xml()"),
        ("CREATE TABLE t (b int);\nALTER TABLE t ADD CONSTRAINT c CHECK (b > pg_backend_pid());", "pg_backend_pid()"),
        ("CREATE TABLE t (b int, CHECK (other > 0));", "not a column of the table"),
        ("CREATE TABLE t (e text);\nCREATE INDEX i ON t (pg_read_file(e));", "pg_read_file()"),
        ("CREATE TABLE t (e text);\nCREATE INDEX i ON t (e) WHERE e = (SELECT 'x');", "a subquery"),
        ("CREATE TABLE t (e text, g text GENERATED ALWAYS AS (e || version()) STORED);", "version()"),
        ("CREATE TABLE t (e text, CHECK (e COLLATE \"C\" > 'a'));", "COLLATE"),
        ("CREATE TABLE t (e int, CHECK (e OPERATOR(public.+) 1 > 0));", "operator"),
    ],
)
def test_checks_indexes_and_generated_columns_pass_the_same_allow_list(ddl: str, reason: str) -> None:
    entities, problems = parse_ddl(ddl, document="s.sql")
    refused = [p for p in problems if p.code == "ddl.expression-refused"]
    assert len(refused) == 1
    assert reason in refused[0].message
    assert entities[0].checks == ()
    assert entities[0].indexes == ()
    assert entities[0].left_out


def test_allow_listed_checks_and_expression_indexes_are_kept() -> None:
    entities, problems = parse_ddl(
        "CREATE TABLE t (qty int CHECK (qty > 0), status text, email text,"
        " CHECK (status IN ('a', 'b') AND qty BETWEEN 1 AND 100 AND qty % 2 = 0));"
        "\nCREATE INDEX i ON t (lower(email)) WHERE status <> 'b';",
        document="s.sql",
    )
    assert problems == []
    assert len(entities[0].checks) == 2
    assert entities[0].indexes[0].columns == ("lower(email)",)


def test_pg_dump_serial_default_reads_as_an_identity_column() -> None:
    entities, problems = parse_ddl(
        "CREATE TABLE t (id integer NOT NULL DEFAULT nextval('t_id_seq'::regclass), v int);", document="s.sql"
    )
    assert problems == []
    assert entities[0].column("id").identity
    assert entities[0].column("id").default is None


def test_a_dbml_expression_default_passes_the_allow_list() -> None:
    entities, problems = parse_dbml(
        "Table t {\n  id int [pk]\n  a int [default: `version()::int`]\n  b timestamptz [default: `now()`]\n"
        "  c int [default: `1; DROP TABLE t`]\n}\n",
        document="m.dbml",
    )
    assert [p.code for p in problems] == ["dbml.expression-refused", "dbml.expression-refused"]
    assert "version()" in problems[0].message
    assert "not one SQL expression" in problems[1].message
    columns = {c.name: c.default for c in entities[0].columns}
    assert columns == {"id": None, "a": None, "b": "now()", "c": None}
