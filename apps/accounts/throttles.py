"""API rate limits per token and per user; the rates are settings read on every request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

from apps.accounts.models import ApiToken

if TYPE_CHECKING:  # DRF imports the throttles while rest_framework.views is still loading
    from rest_framework.request import Request
    from rest_framework.views import APIView


class UserThrottle(UserRateThrottle):
    """All of a user's requests, whichever token or session they come with (API_THROTTLE_USER_RATE)."""

    def get_rate(self) -> str:
        return str(settings.API_THROTTLE_USER_RATE)


class TokenThrottle(SimpleRateThrottle):
    """Each API token on its own (API_THROTTLE_TOKEN_RATE), so one runaway script cannot spend the
    whole of its owner's budget. Session requests carry no token and are left to UserThrottle."""

    scope = "token"

    def get_rate(self) -> str:
        return str(settings.API_THROTTLE_TOKEN_RATE)

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
