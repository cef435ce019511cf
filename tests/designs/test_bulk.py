"""Bulk steps spare the collector the long-lived document without switching it off."""

import gc

from apps.designs.engine.bulk import bulk_step, settle


def test_a_bulk_step_keeps_the_collector_running_and_spares_what_lives_on() -> None:
    with bulk_step():
        assert gc.isenabled()
        before = gc.get_freeze_count()
        document = [{"node": [i]} for i in range(1000)]  # containers the collector tracks
        settle()
        assert gc.get_freeze_count() >= before + len(document)
        with bulk_step():  # a step inside another keeps what the outer one froze
            pass
        assert gc.get_freeze_count() >= before + len(document)
    assert gc.get_freeze_count() == 0  # all back in the oldest generation, collected as usual
    assert gc.isenabled()


def test_settle_outside_a_bulk_step_does_nothing() -> None:
    before = gc.get_freeze_count()
    [{"node": i} for i in range(100)]
    settle()
    assert gc.get_freeze_count() == before


def test_a_cycle_made_inside_a_bulk_step_is_collected() -> None:
    class Node:
        pass

    with bulk_step():
        node = Node()
        node.self = node  # type: ignore[attr-defined]
        del node
        assert gc.collect() >= 1
