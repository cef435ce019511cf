from celery import shared_task

from apps.sandbox import engine as sandbox
from apps.sandbox.services import sandbox_config


@shared_task
def drop_orphan_sandboxes() -> int:
    return len(sandbox.drop_orphans(sandbox_config()))
