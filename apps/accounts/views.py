from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts import selectors, services
from apps.accounts.forms import MemberForm, SignupForm, TokenForm, WorkspaceForm
from apps.accounts.models import ApiToken, Membership, Role
from apps.designs.selectors import demo_excerpt, design_list


def login_locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """django-axes' answer once an account or an address has failed LOGIN_FAILURE_LIMIT times."""
    return render(
        request,
        "accounts/lockout.html",
        {
            "failure_limit": settings.LOGIN_FAILURE_LIMIT,
            "username": (credentials or {}).get("username", "") or request.POST.get("username", ""),
            "minutes": settings.LOGIN_LOCKOUT_MINUTES,
        },
        status=429,
    )


def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        # Several backends are configured (django-axes guards passwords): name the one that applies.
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome! Create a workspace to start.")
        return redirect("accounts:home")
    return render(request, "accounts/signup.html", {"form": form})


def home(request: HttpRequest) -> HttpResponse:
    """Visitors get the landing page; a logged-in user, their workspaces."""
    if not request.user.is_authenticated:
        if request.method == "POST":
            return redirect_to_login(request.get_full_path())
        return render(
            request,
            "accounts/landing.html",
            {"demo": selectors.demo_login(), "excerpt": demo_excerpt(), "demo_workspace": "demo"},
        )
    form = WorkspaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            workspace = services.workspace_create(user=request.user, name=form.cleaned_data["name"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("accounts:workspace", slug=workspace.slug)
    workspaces = selectors.workspace_list(user=request.user)
    return render(request, "accounts/home.html", {"workspaces": workspaces, "form": form})


@login_required
def workspace_detail(request: HttpRequest, slug: str) -> HttpResponse:
    workspace, membership = selectors.workspace_get(user=request.user, slug=slug)
    return render(
        request,
        "accounts/workspace.html",
        {
            "workspace": workspace,
            "membership": membership,
            "designs": design_list(workspace=workspace),
            "members": workspace.memberships.select_related("user").order_by("user__username"),
            "member_form": MemberForm(),
            "can_edit": membership.can(Role.EDITOR),
            "is_owner": membership.can(Role.OWNER),
        },
    )


@login_required
@require_POST
def members(request: HttpRequest, slug: str) -> HttpResponse:
    workspace, membership = selectors.workspace_get(user=request.user, slug=slug)
    if not membership.can(Role.OWNER):
        raise PermissionDenied("Only owners manage members.")
    if "remove" in request.POST:
        remove = request.POST["remove"]
        if not (remove.isascii() and remove.isdigit()):
            raise Http404("No such member.")
        try:
            services.membership_remove(workspace=workspace, actor=request.user, membership_id=int(remove))
        except Membership.DoesNotExist:
            raise Http404("No such member of this workspace.") from None
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("accounts:workspace", slug=slug)
    form = MemberForm(request.POST)
    if form.is_valid():
        try:
            services.membership_set(
                workspace=workspace,
                actor=request.user,
                username=form.cleaned_data["username"],
                role=form.cleaned_data["role"],
            )
            messages.success(
                request,
                f"{form.cleaned_data['username']} is now {form.cleaned_data['role']}.",
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, "Give a username and a role.")
    return redirect("accounts:workspace", slug=slug)


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        _, raw = services.token_create(user=request.user, name=form.cleaned_data["name"])
        created = raw  # shown once, in this response only
        form = TokenForm()
    return render(
        request,
        "accounts/tokens.html",
        {"tokens": request.user.api_tokens.all(), "form": form, "created": created},
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        services.token_revoke(user=request.user, token_id=token_id)
    except ApiToken.DoesNotExist:
        raise Http404 from None
    messages.success(request, "Token revoked.")
    return redirect("accounts:tokens")
