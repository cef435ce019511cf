import pytest

from apps.accounts.models import Workspace
from apps.designs.engine.loader import DesignInput
from apps.designs.models import Design, Revision
from apps.designs.services import DesignRejected, design_create, revision_create


def test_a_paste_becomes_a_numbered_revision_with_its_counts(workspace: Workspace, owner: object, shop_v1: str) -> None:
    design, first = design_create(workspace=workspace, user=owner, name="Shop", texts=DesignInput(document=shop_v1))
    second = revision_create(design=design, user=owner, texts=DesignInput(document=shop_v1 + "\n"))
    assert (first.number, second.number) == (1, 2)
    assert first.summary == {"entities": 7, "endpoints": 11, "stories": 6, "queries": 4}
    assert first.document == shop_v1
    assert second.created_by == owner


def test_a_paste_that_cannot_be_analysed_saves_nothing(workspace: Workspace, owner: object) -> None:
    with pytest.raises(DesignRejected) as raised:
        design_create(
            workspace=workspace, user=owner, name="Broken", texts=DesignInput(openapi="openapi: 3.1.0\npaths: [\n")
        )
    assert raised.value.problems[0].code == "input.invalid-yaml"
    assert Design.objects.count() == 0
    assert Revision.objects.count() == 0
