import pytest

from apps.analysis.engine import pipeline
from apps.analysis.engine.pipeline import ANALYZER_NAMES, ANALYZERS, UnknownAnalyzerError, analyze
from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput


def test_it_reports_progress_for_every_stage_in_order(shop_v1: str) -> None:
    seen: list[tuple[str, str, int]] = []
    analyze(DesignInput(document=shop_v1), limits=ParseLimits(), on_progress=lambda *event: seen.append(event))
    finished = [(stage, state) for stage, state, _ in seen if state != "running"]
    assert finished[0] == ("parse", "succeeded")
    assert ("traceability", "succeeded") in finished
    assert [p for _, _, p in seen if _ != "running"][-1] == 100
    assert [p for _, _, p in seen] == sorted(p for _, _, p in seen)


def test_analyzers_that_need_the_sandbox_are_skipped_with_the_reason_without_one(shop_v1: str) -> None:
    outcome = analyze(DesignInput(document=shop_v1), limits=ParseLimits())
    statuses = {r.name: (r.status, r.reason) for r in outcome.results}
    assert statuses["traceability"][0] == "succeeded"
    assert statuses["security"][0] == "succeeded"
    assert statuses["migrations"] == ("skipped", "needs the sandbox PostgreSQL (SANDBOX_DATABASE_URL); none was given")
    assert statuses["queryplans"] == ("skipped", "needs the sandbox PostgreSQL (SANDBOX_DATABASE_URL); none was given")
    # Reported in the analyzers' order, though the query plans run last (after the endpoints).
    assert [r.name for r in outcome.results] == list(ANALYZER_NAMES)


def test_only_limits_the_analyzers_and_unknown_names_are_refused(shop_v1: str) -> None:
    outcome = analyze(DesignInput(document=shop_v1), limits=ParseLimits(), only=("migrations",))
    assert {r.name: r.reason for r in outcome.results}["traceability"] == "not selected"
    with pytest.raises(UnknownAnalyzerError, match="choose from"):
        analyze(DesignInput(document=shop_v1), limits=ParseLimits(), only=("nope",))


def test_an_analyzer_that_raises_fails_alone(shop_v1: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(model: object, base: object, context: object) -> tuple[list, dict]:
        raise ValueError("boom")

    spec = ANALYZERS[0]
    monkeypatch.setattr(pipeline, "ANALYZERS", (spec.__class__(spec.name, spec.title, broken), *ANALYZERS[1:]))
    outcome = analyze(DesignInput(document=shop_v1), limits=ParseLimits())
    assert (outcome.results[0].status, outcome.results[0].reason) == ("failed", "ValueError: boom")


def test_a_design_that_does_not_parse_skips_the_analyzers() -> None:
    outcome = analyze(DesignInput(document=""), limits=ParseLimits())
    assert not outcome.analysable
    assert outcome.results[0].status == "skipped"
    assert [f.rule_id for f in outcome.findings] == ["input.empty"]


def test_the_proven_indexes_are_offered_to_the_migration_preview() -> None:
    from apps.designs.engine.findings import AnalyzerResult

    advice = {"sql": "CREATE INDEX CONCURRENTLY ON orders (status);", "table": "orders", "columns": ["status"]}
    plans = AnalyzerResult("queryplans", "succeeded", section={"queries": [{"advice": [advice]}, {"advice": []}]})
    migrations = AnalyzerResult("migrations", "succeeded", section={"name": "0001_initial"})
    offered = {r.name: r for r in pipeline._advice_offered((migrations, plans))}
    assert offered["migrations"].section["advised_indexes"]["indexes"] == 1
    assert offered["migrations"].section["name"] == "0001_initial"
    # Without advice, or without the migration preview, nothing changes.
    quiet = AnalyzerResult("queryplans", "succeeded", section={"queries": [{"advice": []}]})
    assert pipeline._advice_offered((migrations, quiet))[0] is migrations
    assert pipeline._advice_offered((plans,)) == (plans,)
