"""The review judged against the answer keys of tests/fixtures/review-keys (see scoring.py).

The whole review runs on each design, as `manage.py analyze` runs it, with the sandbox for the
migration preview; the table of scores is printed whether the goals are met or not.
"""

from typing import Any

import pytest

from apps.sandbox import engine as sandbox
from apps.sandbox.services import sandbox_config
from tests.review_quality.scoring import (
    GOAL_RECALL,
    GOAL_WRONG_RATE,
    MARKDOWN_ENTRIES,
    DesignKey,
    Scores,
    designs,
    details,
    score_design,
    table,
)

KEYS = designs()


@pytest.fixture(scope="module")
def scores(django_db_blocker: Any, request: pytest.FixtureRequest) -> dict[str, Scores]:
    """Every design scored once; the sandbox's connections are its own, so database access is
    unblocked as the migration preview tests do."""
    sandbox.setup(sandbox_config())
    with django_db_blocker.unblock():
        found = {key.name: score_design(key) for key in KEYS}
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else _nothing():
        print("\n" + table(list(found.values())))
        for result in found.values():
            print(details(result))
    return found


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


@pytest.mark.parametrize("key", KEYS, ids=lambda k: k.name)
def test_every_analyzer_runs_on_the_design(key: DesignKey, scores: dict[str, Scores]) -> None:
    assert not scores[key.name].failures


def test_there_are_at_least_three_keyed_designs() -> None:
    assert len(KEYS) >= 3
    assert all(key.must and key.must_not and key.migration for key in KEYS)


@pytest.mark.parametrize("key", KEYS, ids=lambda k: k.name)
def test_the_review_tells_what_a_senior_must_be_told(key: DesignKey, scores: dict[str, Scores]) -> None:
    result = scores[key.name]
    assert result.recall >= GOAL_RECALL, f"missed: {result.missed}"


@pytest.mark.parametrize("key", KEYS, ids=lambda k: k.name)
def test_the_review_says_few_wrong_things(key: DesignKey, scores: dict[str, Scores]) -> None:
    result = scores[key.name]
    wrong = sorted({(i, f["rule_id"], loc.get("pointer") or loc.get("line")) for i, f, loc in result.wrong})
    assert result.wrong_rate <= GOAL_WRONG_RATE, f"{len(wrong)} wrong of {result.findings}: {wrong}"


@pytest.mark.parametrize("key", KEYS, ids=lambda k: k.name)
def test_every_key_item_is_among_the_first_markdown_entries(key: DesignKey, scores: dict[str, Scores]) -> None:
    result = scores[key.name]
    assert not result.not_in_top, f"not in the first {MARKDOWN_ENTRIES}: {result.not_in_top}"


@pytest.mark.parametrize("key", KEYS, ids=lambda k: k.name)
def test_the_migration_review_agrees_with_the_key(key: DesignKey, scores: dict[str, Scores]) -> None:
    result = scores[key.name]
    assert not result.disagreed, f"disagreed: {result.disagreed}"
