"""The migration review against Squawk (the PostgreSQL migration linter, run for real from PyPI)
on a corpus of hand-written statements, dangerous and safe. Every disagreement is listed here
with its reason; docs/migration-rules.md carries the same table for readers."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from apps.migrations_preview.engine.review import StatementReview, TableFacts, review_sql
from tests.conftest import ROOT

CORPUS = ROOT / "tests" / "fixtures" / "migration-corpus.sql"
SQUAWK = Path(sys.executable).with_name("squawk")
FACTS = {
    "orders": TableFacts(
        rows=40_000_000,
        columns={"note": "text", "code": "varchar(20)", "qty": "integer", "status": "varchar(16)"},
        not_null_checks=frozenset({"status"}),
    )
}
# Squawk rules that give advice on style or session settings rather than a verdict on the
# statement's locks or data: we give the timeouts in every safe migration instead.
ADVICE = {
    "prefer-robust-stmts",
    "require-lock-timeout",
    "require-statement-timeout",
    "require-timeout-settings",
    "prefer-text-field",
    "prefer-identity",
    "prefer-bigint-over-int",
    "prefer-bigint-over-smallint",
    "prefer-big-int",
    "prefer-timestamptz",
    "ban-char-field",
}
DELIBERATE = {
    "ALTER TABLE orders ALTER COLUMN code TYPE varchar(50);": "widening a varchar is metadata-only (no rewrite, a brief lock); Squawk flags every type change",
    "ALTER TABLE orders ALTER COLUMN code TYPE text;": "varchar to text is binary-coercible: metadata only",
    "ALTER TABLE orders ALTER COLUMN status SET NOT NULL;": "a validated CHECK (status IS NOT NULL) exists, so PostgreSQL 12+ skips the scan",
    "ALTER TABLE orders ADD COLUMN seq bigserial;": "Squawk only suggests an identity column (advice); adding a serial column rewrites the whole table",
    "UPDATE orders SET status = 'pending';": "Squawk has no rule for an unbatched backfill; it locks and rewrites 40M rows",
    "VACUUM FULL orders;": "Squawk has no rule for VACUUM FULL, which rewrites the table under ACCESS EXCLUSIVE",
    "DROP INDEX orders_qty_idx;": "a plain DROP INDEX holds ACCESS EXCLUSIVE only for a moment, like other metadata changes: rated low, with DROP INDEX CONCURRENTLY as the safe alternative",
}


def _statements() -> list[str]:
    return [line.strip() for line in CORPUS.read_text().splitlines() if line[:1].isupper()]


def _flags(review: StatementReview) -> bool:
    return review.risk in {"medium", "high"} or bool(review.breaking)


def _squawk(statement: str, tmp_path: Path) -> set[str]:
    path = tmp_path / "statement.sql"
    path.write_text(statement + "\n")
    result = subprocess.run(  # noqa: S603 - the pinned Squawk binary on our own file
        [str(SQUAWK), str(path), "--reporter", "json"], capture_output=True, text=True, timeout=60, check=False
    )
    return {item["rule_name"] for item in json.loads(result.stdout or "[]")} - ADVICE


def test_the_corpus_has_at_least_40_statements() -> None:
    assert len(_statements()) >= 40


@pytest.mark.parametrize("statement", _statements())
def test_verdicts_agree_with_squawk(statement: str, tmp_path: Path) -> None:
    (review,) = review_sql([statement], tables=FACTS)
    ours = _flags(review)
    theirs = _squawk(statement, tmp_path)
    if statement in DELIBERATE:
        assert ours != bool(theirs), f"listed as a difference but both agree: {statement}"
        return
    assert ours == bool(theirs), f"{statement}: ours={review.risk}/{review.breaking!r}, Squawk={sorted(theirs)}"
    if ours and review.risk in {"medium", "high"}:
        assert review.safe_alternative


def test_the_docs_list_every_deliberate_difference() -> None:
    table = (ROOT / "docs" / "migration-rules.md").read_text()
    for statement in DELIBERATE:
        assert f"`{statement}`" in table
