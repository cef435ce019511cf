from typing import Any

import psycopg
from django.core.management.base import BaseCommand, CommandError

from apps.queryplans import sandbox
from apps.queryplans.services import sandbox_config


class Command(BaseCommand):
    help = "Create the sandbox database and its low-privilege role (idempotent)."
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        config = sandbox_config()
        try:
            sandbox.setup(config)
        except psycopg.Error as exc:
            raise CommandError(
                f"cannot set up the sandbox at {config.admin_url.split('@')[-1]}: {str(exc).strip().splitlines()[0]}. "
                "SANDBOX_DATABASE_URL must name a role that may create databases and roles."
            ) from None
        self.stdout.write(f"sandbox ready: database {config.database}, role {config.role}")
