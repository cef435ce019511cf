"""Designs and their revisions: the texts a team pasted, checked before anything is saved."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from apps.accounts.models import Workspace
from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput, field_document_names, parse_design
from apps.designs.engine.model import ParseResult, Problem
from apps.designs.models import Design, Revision

TEXT_FIELDS = ("document", "stories", "openapi", "data_model", "queries")


def parse_limits() -> ParseLimits:
    return ParseLimits(
        max_document_bytes=settings.DESIGN_MAX_DOCUMENT_BYTES,
        max_yaml_nodes=settings.DESIGN_MAX_YAML_NODES,
        max_schema_depth=settings.DESIGN_MAX_SCHEMA_DEPTH,
        max_operations=settings.DESIGN_MAX_OPERATIONS,
    )


class DesignRejected(ValidationError):
    """The paste cannot be analysed; carries the problems with their lines."""

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        super().__init__([p.message for p in problems])
        self.problems = problems


def revision_input(revision: Revision) -> DesignInput:
    """A saved revision's texts, as the parsers take them."""
    return DesignInput(**{f: getattr(revision, f) for f in TEXT_FIELDS}, document_name=revision.document_name)


def revision_documents(revision: Revision) -> list[tuple[str, str, str]]:
    """(field, document name, text) of each text the revision holds, in the order the revision
    page lists them: the names its source pages and the findings' places use."""
    names = field_document_names(revision_input(revision))
    docs = [("document", revision.document_name, revision.document)] if revision.document else []
    docs += [(f, names[f], getattr(revision, f)) for f in TEXT_FIELDS[1:] if getattr(revision, f)]
    return docs


def design_validate(*, texts: DesignInput) -> ParseResult:
    """Parse without saving: what the paste form shows while the user types."""
    return parse_design(texts, limits=parse_limits())


@transaction.atomic
def design_create(
    *, workspace: Workspace, user: AbstractBaseUser, name: str, texts: DesignInput
) -> tuple[Design, Revision]:
    """A design with its first revision. Nothing is saved when the texts cannot be analysed."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the design a name."})
    design = Design.objects.create(workspace=workspace, name=name[:200], created_by=user)
    revision = revision_create(design=design, user=user, texts=texts)
    return design, revision


@transaction.atomic
def revision_create(*, design: Design, user: AbstractBaseUser, texts: DesignInput) -> Revision:
    """A new numbered revision holding the texts verbatim.

    Raises DesignRejected (and saves nothing, the design's creation included when called from
    design_create) if the texts have fatal problems: empty, oversize, unreadable.
    """
    result = design_validate(texts=texts)
    if not result.ok:
        raise DesignRejected(result.fatal)
    # Lock the design row so that two concurrent pastes get different numbers.
    Design.objects.select_for_update().filter(pk=design.pk).first()
    number = (design.revisions.aggregate(n=Max("number"))["n"] or 0) + 1
    return Revision.objects.create(
        design=design,
        number=number,
        created_by=user,
        document_name=texts.document_name or "design.md",
        document=texts.document,
        stories=texts.stories,
        openapi=texts.openapi,
        data_model=texts.data_model,
        queries=texts.queries,
        summary=result.model.counts(),
        problem_count=len(result.problems),
    )
