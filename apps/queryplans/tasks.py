from celery import shared_task

from apps.queryplans import sandbox
from apps.queryplans.services import sandbox_config


@shared_task
def drop_orphan_sandboxes() -> int:
    return len(sandbox.drop_orphans(sandbox_config()))
