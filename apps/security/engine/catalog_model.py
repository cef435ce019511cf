"""The rules that hold the stories against the data model (`rules/story_model`), in the same
form as every other rule of the catalog, which includes them."""

from __future__ import annotations

from apps.security.engine.catalog import Rule

MODEL_RULES: tuple[Rule, ...] = (
    Rule(
        id="sec.dp.story-retention-cascade",
        category="DP",
        cwe="CWE-221",
        severity="high",
        title="Rows a story keeps are deleted by ON DELETE CASCADE",
        why="A story promises these rows are retained (or anonymised rather than deleted), but a foreign key deletes them with the row they reference: one delete of a parent loses what the story keeps, and no backup policy brings it back in time for an audit.",
        fix="Use ON DELETE RESTRICT (or NO ACTION) and delete nothing that is retained; anonymise or soft-delete the parent instead:\n```sql\nALTER TABLE orders DROP CONSTRAINT orders_customer_id_fkey,\n  ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE RESTRICT;\n```",
    ),
    Rule(
        id="sec.dp.story-soft-delete-missing",
        category="DP",
        cwe="CWE-221",
        severity="medium",
        title="A story wants soft deletes, the table has no column for them",
        why="A story says deleted rows can be restored or are archived rather than deleted, but the table has no deleted_at, is_deleted or archived_at column, so a delete can only remove the row.",
        fix="Add a nullable `deleted_at timestamptz` column, filter it in the default queries, and index the live rows (`CREATE INDEX ... WHERE deleted_at IS NULL`).",
    ),
    Rule(
        id="sec.dp.story-unique-missing",
        category="DP",
        cwe="CWE-20",
        severity="medium",
        title="A story promises uniqueness that no constraint keeps",
        why="Checks in application code race: two requests both see no duplicate and both insert. Only a unique constraint or unique index in the database keeps the promise.",
        fix="Add the unique constraint the story states; for 'one active X per Y' a partial unique index:\n```sql\nCREATE UNIQUE INDEX one_active_subscription ON subscriptions (customer_id) WHERE status = 'active';\n```",
    ),
    Rule(
        id="sec.dp.story-relation-nullable",
        category="DP",
        cwe="CWE-20",
        severity="low",
        title="A story says every row has a related row, the foreign key allows none",
        why="The story states every row belongs to another, but the foreign key column is nullable (or there is none), so rows without one can be written and the code reading them must cope.",
        fix="Make the foreign key column NOT NULL (on a filled table: backfill, CHECK (col IS NOT NULL) NOT VALID, VALIDATE, SET NOT NULL), or soften the story.",
    ),
)
