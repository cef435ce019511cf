from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.shortcuts import get_object_or_404

from apps.accounts.models import Membership
from apps.analysis.models import AnalysisRun


def run_get(*, user: AbstractBaseUser | AnonymousUser, run_id: int) -> tuple[AnalysisRun, Membership]:
    """The run if the user is a member of its design's workspace; otherwise 404."""
    run = get_object_or_404(
        AnalysisRun.objects.select_related("revision__design__workspace", "base_revision"),
        pk=run_id,
        revision__design__workspace__memberships__user_id=getattr(user, "pk", None),
    )
    membership = Membership.objects.get(workspace=run.revision.design.workspace, user=user)
    return run, membership
