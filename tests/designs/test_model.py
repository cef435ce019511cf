"""The DesignModel's records built through their slots (model.stored_through_slots)."""

import dataclasses
import inspect
import pickle

import pytest

from apps.designs.engine import model
from apps.designs.engine.model import Body, Endpoint, Parameter, Response, SourceRef

FAST = (SourceRef, Parameter, Body, Response, Endpoint)


@pytest.mark.parametrize("cls", FAST)
def test_a_fast_record_takes_its_fields_in_order_with_their_defaults(cls: type) -> None:
    params = list(inspect.signature(cls).parameters.values())
    fields = dataclasses.fields(cls)
    assert [p.name for p in params] == [f.name for f in fields]
    for param, f in zip(params, fields, strict=True):
        if f.default is not dataclasses.MISSING:
            assert param.default is f.default
        elif f.default_factory is dataclasses.MISSING:
            assert param.default is inspect.Parameter.empty


def test_a_default_factory_makes_a_new_value_for_each_record() -> None:
    here = SourceRef("d.json", 1, 1, "/p")
    first = Parameter(name="a", location="query", required=False, schema_type=None, source=here)
    second = Parameter(name="a", location="query", required=False, schema_type=None, source=here)
    assert first.constraints == {} and first.constraints is not second.constraints


def test_a_fast_record_stays_frozen() -> None:
    ref = SourceRef("d.json", 3, 5, "/paths")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.line = 4  # type: ignore[misc]


def test_a_fast_record_compares_hashes_copies_and_pickles_as_before() -> None:
    ref = SourceRef("d.json", 3, 5, "/paths")
    assert ref == SourceRef(document="d.json", line=3, column=5, pointer="/paths")
    assert hash(ref) == hash(SourceRef("d.json", 3, 5, "/paths"))
    assert repr(ref) == "SourceRef(document='d.json', line=3, column=5, pointer='/paths')"
    assert dataclasses.replace(ref, line=9) == SourceRef("d.json", 9, 5, "/paths")
    assert pickle.loads(pickle.dumps(ref)) == ref  # noqa: S301 (our own bytes)
    assert SourceRef("d.json") == SourceRef("d.json", None, None, None)


@pytest.mark.parametrize("cls", FAST)
def test_make_takes_the_fields_and_defaults_the_class_takes(cls: type) -> None:
    assert inspect.signature(cls.make).parameters == inspect.signature(cls).parameters


def test_make_builds_the_record_the_class_builds() -> None:
    here = SourceRef.make("d.json", 3, pointer="/p")
    assert here == SourceRef("d.json", 3, None, "/p") and type(here) is SourceRef
    first = Parameter.make(name="a", location="query", required=False, schema_type=None, source=here)
    second = Parameter.make(name="a", location="query", required=False, schema_type=None, source=here)
    assert first == Parameter("a", "query", False, None, here) and first.constraints is not second.constraints
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.name = "b"  # type: ignore[misc]


def test_it_refuses_a_record_it_cannot_build_through_slots() -> None:
    @dataclasses.dataclass(slots=True)
    class Mutable:
        name: str

    with pytest.raises(TypeError):
        model.stored_through_slots(Mutable)
