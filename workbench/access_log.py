"""Gunicorn's access log, with share links' tokens left out (see `workbench.logging.redact`)."""

from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

from workbench.logging import redact


class AccessLogger(Logger):
    """`--logger-class workbench.access_log.AccessLogger`: every logged request line, path,
    referrer and header has a share link's token replaced by `[token]`."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}
