"""Create (or refresh) the demo user, workspace and design. Safe to run again."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.accounts.models import Membership, Role, Workspace
from apps.designs.engine.loader import DesignInput
from apps.designs.models import Design
from apps.designs.services import revision_create

DEMO_DESIGN = Path(__file__).resolve().parents[3] / "designs" / "demo" / "clinic-design.md"
# The second revision changes the data model (a rename, NOT NULL columns, an index, a widened
# varchar), so that *Compare with r1* shows a migration preview with something to review.
DEMO_DESIGN_V2 = DEMO_DESIGN.with_name("clinic-design-v2.md")


class Command(BaseCommand):
    help = "Create the demo user, the demo workspace and its demo design (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default=settings.DEMO_USERNAME or "demo")
        parser.add_argument("--password", default=settings.DEMO_PASSWORD)

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(username=options["username"])
        if created or not user.has_usable_password():
            user.set_password(options["password"])
            user.save()
        workspace, _ = Workspace.objects.get_or_create(slug="demo", defaults={"name": "Demo workspace"})
        Membership.objects.update_or_create(workspace=workspace, user=user, defaults={"role": Role.OWNER})
        design, _ = Design.objects.get_or_create(
            workspace=workspace,
            name="Clinic appointments",
            defaults={"created_by": user},
        )
        for number, path in ((1, DEMO_DESIGN), (2, DEMO_DESIGN_V2)):
            if design.revisions.count() == number - 1:
                revision_create(
                    design=design,
                    user=user,
                    texts=DesignInput(document=path.read_text(encoding="utf-8"), document_name=path.name),
                )
        self.stdout.write(f"demo login: {options['username']} / {options['password']}")
