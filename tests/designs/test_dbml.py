import pytest

from apps.designs.engine.dbml import parse_dbml
from apps.designs.engine.text import InputError


def test_it_reads_tables_refs_indexes_and_volumes() -> None:
    entities, problems = parse_dbml(
        """Table users [note: 'rows: 2k'] {
  id int [pk, increment]
  email varchar(100) [not null, unique]
  active bool [default: true]
}

Table posts {
  id bigint [pk]
  user_id int [ref: > users.id]
  slug text
  Indexes {
    (user_id, slug) [unique]
    slug
  }
}
""",
        document="m.dbml",
        line_offset=3,
    )
    assert problems == []
    users, posts = entities
    assert users.rows == 2000
    assert users.source.line == 4
    assert users.column("email").source.line == 6
    assert users.column("id").type == "integer" and users.column("id").identity
    assert users.column("active").default == "true" or users.column("active").default == "TRUE"
    assert [(f.columns, f.ref_table) for f in posts.foreign_keys] == [(("user_id",), "users")]
    assert [u.columns for u in posts.uniques] == [("user_id", "slug")]
    assert [i.columns for i in posts.indexes] == [("slug",)]


def test_a_syntax_error_names_its_line() -> None:
    with pytest.raises(InputError) as raised:
        parse_dbml(
            "Table a {\n  id int [pk]\n  x int [nott null]\n}\n",
            document="m.dbml",
            line_offset=10,
        )
    problem = raised.value.problem
    assert problem.code == "dbml.syntax-error"
    assert problem.source.line == 13
    assert "x int [nott null]" in problem.message


def test_it_keeps_reference_actions_enums_and_composite_keys() -> None:
    entities, problems = parse_dbml(
        """Enum status {
  active
  paused
}
Table customers {
  id bigint [pk]
}
Table subscriptions {
  customer_id bigint [not null]
  plan text [not null]
  state status
  indexes {
    (customer_id, plan) [pk]
  }
}
Ref: subscriptions.customer_id > customers.id [delete: cascade, update: set null]
Ref: subscriptions.plan > customers.id
""",
        document="m.dbml",
    )
    assert problems == []
    customers, subscriptions = entities
    assert customers.primary_key_source is not None and customers.primary_key_source.line == 6
    assert subscriptions.primary_key == ("customer_id", "plan")
    assert [(f.columns, f.on_delete, f.on_update) for f in subscriptions.foreign_keys] == [
        (("customer_id",), "CASCADE", "SET NULL"),
        (("plan",), "NO ACTION", "NO ACTION"),
    ]
    assert subscriptions.column("state").values == ("active", "paused")


def test_indexes_keep_their_own_lines() -> None:
    entities, problems = parse_dbml(
        """Table users {
  id int [pk]
  email text
  name text
  indexes {
    (email, name) [unique]
    name
    `lower(email)` [name: 'users_lower']
  }
}
Table posts {
  id int
  slug text
  Indexes {
    slug [unique]
    (id, slug) [pk]
  }
}
""",
        document="m.dbml",
    )
    assert problems == []
    users, posts = entities
    assert [(u.columns, u.source.line) for u in users.uniques] == [(("email", "name"), 6)]
    assert [(i.columns, i.source.line) for i in users.indexes] == [(("name",), 7), (("lower(email)",), 8)]
    assert [(u.columns, u.source.line) for u in posts.uniques] == [(("slug",), 15)]
    assert posts.primary_key_source is not None and posts.primary_key_source.line == 16
