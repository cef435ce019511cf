"""Reads that enforce membership: another workspace's object is simply not found."""

import hashlib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
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


def demo_login() -> tuple[str, str] | None:
    """The demo account's username and password when that account exists and the password logs it
    in (so the landing page never offers a demo that is not there); else None.

    The password check costs a deliberately slow hash: its answer is kept in the cache under the
    stored hash, for LANDING_DEMO_CHECK_SECONDS, and a changed password is checked anew."""
    username, password = settings.DEMO_USERNAME, settings.DEMO_PASSWORD
    if not username or not password:
        return None
    user = get_user_model().objects.filter(username=username, is_active=True).only("password").first()
    if user is None or not user.has_usable_password():
        return None
    key = "landing-demo:" + hashlib.sha256(f"{username}\0{user.password}".encode()).hexdigest()
    works = cache.get(key)
    if works is None:
        works = user.check_password(password)
        cache.set(key, works, settings.LANDING_DEMO_CHECK_SECONDS)
    return (username, password) if works else None
