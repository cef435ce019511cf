import pytest

from apps.designs.engine.ddl import normalize_type, parse_ddl
from apps.designs.engine.text import InputError


def test_it_reads_columns_keys_and_constraints() -> None:
    entities, problems = parse_ddl(
        """
        CREATE TABLE a (id bigserial PRIMARY KEY, code text NOT NULL DEFAULT 'x', n numeric(10,2) CHECK (n > 0));
        CREATE TABLE b (
            id integer GENERATED ALWAYS AS IDENTITY,
            a_id bigint NOT NULL,
            label varchar(20),
            PRIMARY KEY (id),
            CONSTRAINT b_label UNIQUE (a_id, label),
            FOREIGN KEY (a_id) REFERENCES a (id)
        );
        CREATE INDEX b_label_idx ON b (lower(label)) WHERE label IS NOT NULL;
        ALTER TABLE b ADD COLUMN extra jsonb;
        COMMENT ON TABLE b IS 'rows: 1.5M';
        """,
        document="s.sql",
    )
    assert problems == []
    a, b = entities
    assert a.primary_key == ("id",)
    assert a.column("id") is not None and a.column("id").type == "bigint" and a.column("id").identity
    assert a.column("code").default == "'x'" and not a.column("code").nullable
    assert a.column("n").type == "numeric(10,2)"
    assert a.checks[0].expression == "n > 0"
    assert b.primary_key == ("id",) and not b.column("id").nullable
    assert [u.columns for u in b.uniques] == [("a_id", "label")]
    assert [(f.columns, f.ref_table, f.ref_columns) for f in b.foreign_keys] == [(("a_id",), "a", ("id",))]
    assert [(i.columns, i.where) for i in b.indexes] == [(("lower(label)",), "label IS NOT NULL")]
    assert b.column("extra").type == "jsonb"
    assert b.rows == 1_500_000


def test_a_syntax_error_names_its_line_and_column() -> None:
    with pytest.raises(InputError) as raised:
        parse_ddl("CREATE TABLE a (\n  id int,,\n  b int\n);", document="s.sql", line_offset=4)
    problem = raised.value.problem
    assert problem.code == "ddl.syntax-error"
    assert (problem.source.line, problem.source.column) == (6, 10)
    assert "line 6" in problem.message


def test_other_statements_are_reported_as_ignored() -> None:
    entities, problems = parse_ddl(
        "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\nSET search_path = x;",
        document="s.sql",
    )
    assert len(entities) == 1
    assert [(p.code, p.source.line) for p in problems] == [("ddl.ignored-statement", 2)]


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("int", "integer"),
        ("int8", "bigint"),
        ("character varying(20)", "varchar(20)"),
        ("timestamp with time zone", "timestamptz"),
        ("bool", "boolean"),
        ("char(3)", "char(3)"),
        ("text[]", "text[]"),
    ],
)
def test_types_have_one_spelling(written: str, canonical: str) -> None:
    assert normalize_type(written) == canonical


def test_it_keeps_referential_actions_composite_keys_partial_uniques_and_enums() -> None:
    entities, problems = parse_ddl(
        """
        CREATE TYPE mood AS ENUM ('happy', 'sad');
        CREATE TABLE c (id bigint PRIMARY KEY);
        CREATE TABLE s (
            customer_id bigint REFERENCES c (id) ON DELETE CASCADE,
            plan text,
            status text,
            feeling mood,
            PRIMARY KEY (customer_id, plan),
            FOREIGN KEY (plan) REFERENCES c (id) ON DELETE SET NULL ON UPDATE RESTRICT
        );
        CREATE UNIQUE INDEX one_active ON s (customer_id) WHERE status = 'active';
        """,
        document="s.sql",
    )
    assert problems == []
    s = entities[1]
    assert s.primary_key == ("customer_id", "plan")
    assert s.primary_key_source is not None and s.primary_key_source.line == 9
    assert [(f.columns, f.on_delete, f.on_update, f.source.line) for f in s.foreign_keys] == [
        (("customer_id",), "CASCADE", "NO ACTION", 5),
        (("plan",), "SET NULL", "RESTRICT", 10),
    ]
    assert [(u.columns, u.where, u.name, u.source.line) for u in s.uniques] == [
        (("customer_id",), "status = 'active'", "one_active", 12)
    ]
    assert s.column("feeling").values == ("happy", "sad")
    assert s.column("status").values == ()


def test_a_partial_unique_index_off_the_allow_list_is_left_out() -> None:
    entities, problems = parse_ddl(
        """
        CREATE TABLE s (id bigint PRIMARY KEY, owner text);
        CREATE UNIQUE INDEX mine ON s (id) WHERE owner = current_user;
        """,
        document="s.sql",
    )
    assert [p.code for p in problems] == ["ddl.expression-refused"]
    assert entities[0].uniques == ()
    assert "current_user" in entities[0].left_out[0]


def test_index_details_the_preview_does_not_write_are_noted() -> None:
    entities, problems = parse_ddl(
        """
        CREATE TABLE s (id bigint PRIMARY KEY, name text, at timestamptz);
        CREATE INDEX s_recent ON s (at DESC NULLS LAST, name text_pattern_ops) INCLUDE (id);
        CREATE INDEX s_plain ON s (at);
        """,
        document="s.sql",
    )
    assert problems == []
    assert entities[0].left_out == (
        "s: index s_recent is previewed without DESC, NULLS FIRST/LAST, an operator class, INCLUDE (...): "
        "the preview writes plain ascending columns",
    )
