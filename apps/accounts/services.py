"""Writes for users, workspaces, memberships and API tokens."""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from apps.accounts.models import ApiToken, Membership, Role, Workspace


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def workspace_create(*, user: AbstractBaseUser, name: str) -> Workspace:
    """A new workspace, with its creator as owner. The slug is made unique by suffixing.

    A creator's workspace names are unique (case-insensitively): a second one, or a concurrent
    twin (a double submit), raises ValidationError. The database constraints decide races: the
    loser of a slug race takes the next suffix; the loser of a name race gets the message."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the workspace a name."})
    taken = ValidationError({"name": f"You already have a workspace called {name!r}."})
    base = slugify(name)[:50] or "workspace"
    for _ in range(settings.WORKSPACE_CREATE_ATTEMPTS):
        if Workspace.objects.filter(created_by=user, name__iexact=name).exists():
            raise taken
        slug = base
        suffix = 2
        while Workspace.objects.filter(slug=slug).exists():
            slug = f"{base}-{suffix}"
            suffix += 1
        try:
            with transaction.atomic():  # a savepoint: a lost race leaves the outer transaction usable
                workspace = Workspace.objects.create(name=name, slug=slug, created_by=user)
        except IntegrityError:
            continue  # the next turn tells a name taken meanwhile from a slug taken meanwhile
        Membership.objects.create(workspace=workspace, user=user, role=Role.OWNER)
        return workspace
    raise ValidationError({"name": "Many workspaces of that name are being created at once; try again."})


@transaction.atomic
def membership_set(*, workspace: Workspace, actor: AbstractBaseUser, username: str, role: str) -> Membership:
    """Add a member or change a member's role. Only owners may; a workspace keeps one owner."""
    _require_owner(workspace, actor)
    if role not in Role.values:
        raise ValidationError({"role": f"Role must be one of {', '.join(Role.values)}."})
    user = get_user_model().objects.filter(username=username.strip()).first()
    if user is None:
        raise ValidationError({"username": f"No user is called {username!r}; they must sign up first."})
    membership = Membership.objects.select_for_update().filter(workspace=workspace, user=user).first()
    if membership is None:
        return Membership.objects.create(workspace=workspace, user=user, role=role)
    if membership.role == Role.OWNER and role != Role.OWNER:
        _keep_an_owner(workspace, membership)
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, workspace: Workspace, actor: AbstractBaseUser, membership_id: int) -> None:
    _require_owner(workspace, actor)
    membership = Membership.objects.select_for_update().get(workspace=workspace, pk=membership_id)
    if membership.role == Role.OWNER:
        _keep_an_owner(workspace, membership)
    membership.delete()


def _require_owner(workspace: Workspace, actor: AbstractBaseUser) -> None:
    if not Membership.objects.filter(workspace=workspace, user=actor, role=Role.OWNER).exists():
        raise PermissionDenied("Only the workspace's owners manage its members.")


def _keep_an_owner(workspace: Workspace, leaving: Membership) -> None:
    others = Membership.objects.filter(workspace=workspace, role=Role.OWNER).exclude(pk=leaving.pk)
    if not others.exists():
        raise ValidationError({"role": "A workspace needs at least one owner; make someone else owner first."})


def token_create(*, user: AbstractBaseUser, name: str) -> tuple[ApiToken, str]:
    """A new API token. Returns the row and the raw token, which is not stored and shown once."""
    name = name.strip() or "token"
    for _ in range(3):
        raw = settings.API_TOKEN_PREFIX + secrets.token_urlsafe(32)
        try:
            token = ApiToken.objects.create(user=user, name=name[:100], prefix=raw[:12], key_hash=hash_token(raw))
        except IntegrityError:  # pragma: no cover - a 256-bit collision
            continue
        return token, raw
    raise RuntimeError("could not create a unique token")


def token_revoke(*, user: AbstractBaseUser, token_id: int) -> ApiToken:
    token = ApiToken.objects.get(user=user, pk=token_id)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
