"""Reads of designs and revisions, always through the requester's workspace membership."""

import functools
import re
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from apps.accounts.models import Membership, Role, Workspace
from apps.designs.models import Design, Revision


def design_list(*, workspace: Workspace) -> QuerySet[Design]:
    return workspace.designs.annotate(revision_count=Count("revisions")).order_by("-created_at")


def design_get(
    *, user: AbstractBaseUser | AnonymousUser, design_id: int, role: str = Role.VIEWER
) -> tuple[Design, Membership]:
    """The design if the user is a member of its workspace with at least `role`; else 404."""
    design = get_object_or_404(
        Design.objects.select_related("workspace"),
        pk=design_id,
        workspace__memberships__user_id=getattr(user, "pk", None),
    )
    membership = Membership.objects.get(workspace=design.workspace, user=user)
    if not membership.can(role):
        raise Http404
    return design, membership


def revision_get(*, user: AbstractBaseUser | AnonymousUser, revision_id: int) -> tuple[Revision, Membership]:
    revision = get_object_or_404(
        Revision.objects.select_related("design__workspace"),
        pk=revision_id,
        design__workspace__memberships__user_id=getattr(user, "pk", None),
    )
    membership = Membership.objects.get(workspace=revision.design.workspace, user=user)
    return revision, membership


def revision_by_number(*, design: Design, number: int) -> Revision:
    return get_object_or_404(design.revisions, number=number)


DEMO_DESIGN = Path(__file__).resolve().parent / "demo" / "clinic-design.md"


@functools.cache
def demo_excerpt() -> dict[str, str]:
    """Three short pieces of the demo design (a story, a table, a named query) for the landing
    page, cut from the file `manage.py seed_demo` pastes; a piece not found is left out."""
    text = DEMO_DESIGN.read_text(encoding="utf-8")
    pieces = {
        "title": re.search(r"^# (.+)$", text, re.MULTILINE),
        "story": re.search(r"^### APT-1:.*?(?=^### )", text, re.MULTILINE | re.DOTALL),
        "table": re.search(r"^Table appointments .*?^\}", text, re.MULTILINE | re.DOTALL),
        "query": re.search(r"^-- name: clinic_day_schedule\n.*?;", text, re.MULTILINE | re.DOTALL),
    }
    excerpt = {key: match.group(1 if key == "title" else 0).strip() for key, match in pieces.items() if match}
    excerpt["lines"] = str(len(text.splitlines()))
    return excerpt
