"""Reads that enforce membership: another workspace's object is simply not found."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.http import Http404

from apps.accounts.models import Membership, Role, Workspace


def workspace_list(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Workspace]:
    if not user.is_authenticated:
        return Workspace.objects.none()
    return Workspace.objects.filter(memberships__user=user).distinct()


def membership_get(*, user: AbstractBaseUser | AnonymousUser, workspace: Workspace) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, workspace=workspace).first()


def workspace_get(
    *, user: AbstractBaseUser | AnonymousUser, slug: str, role: str = Role.VIEWER
) -> tuple[Workspace, Membership]:
    """The workspace and the user's membership, or 404 when not a member.

    A member whose role is below `role` gets a 404 too for reads, so that a viewer cannot probe
    editor-only URLs; views that want a 403 check `membership.can(...)` themselves.
    """
    if not user.is_authenticated:
        raise Http404
    membership = Membership.objects.select_related("workspace").filter(user=user, workspace__slug=slug).first()
    if membership is None or not membership.can(role):
        raise Http404
    return membership.workspace, membership
