import pytest
from rest_framework.test import APIClient

from apps.accounts.services import token_create


@pytest.fixture
def api(owner: object) -> APIClient:
    """The owner's API client, authenticated with a token as scripts are."""
    _, raw = token_create(user=owner, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client
