"""Rich state is made through the services, as the app makes it."""

from django.contrib.auth.models import AbstractBaseUser

from apps.accounts.models import Workspace
from apps.analysis import services as analysis_services
from apps.analysis.models import AnalysisRun
from apps.designs.engine.loader import DesignInput
from apps.designs.models import Design, Revision
from apps.designs.services import design_create


def make_design(
    *, workspace: Workspace, user: AbstractBaseUser, document: str, name: str = "Shop"
) -> tuple[Design, Revision]:
    return design_create(
        workspace=workspace, user=user, name=name, texts=DesignInput(document=document, document_name="v1-design.md")
    )


def make_finished_run(*, revision: Revision, user: AbstractBaseUser) -> AnalysisRun:
    """A run executed in-process by the same service the worker calls."""
    run = analysis_services.run_start(revision=revision, user=user)
    analysis_services.run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run
