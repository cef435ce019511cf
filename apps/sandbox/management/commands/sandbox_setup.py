from typing import Any

import psycopg
from django.core.management.base import BaseCommand, CommandError

from apps.sandbox import engine as sandbox
from apps.sandbox.services import sandbox_config


class Command(BaseCommand):
    help = "Prepare the sandbox template database each analysis copies, and reset what sandbox roles set on themselves (idempotent)."
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
        dropped = sandbox.drop_orphans(config)
        self.stdout.write(
            f"sandbox ready: template database {config.database}; each analysis gets its own role and database"
            + (f" ({len(dropped)} left by stopped jobs dropped)" if dropped else "")
        )
