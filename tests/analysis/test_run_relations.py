"""The run page's traceability shows each entity's keys and relations with their lines."""

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from apps.accounts.models import Workspace
from tests.factories import make_design, make_finished_run

pytestmark = pytest.mark.django_db

DOCUMENT = """# Shop

### SUB-1: Subscribe
As a customer, I want to subscribe, so that I get the box.

Acceptance criteria:
- Subscriptions are kept for 10 years.

```sql
CREATE TABLE customers (id bigint PRIMARY KEY);
CREATE TABLE subscriptions (
  id bigint PRIMARY KEY,
  customer_id bigint REFERENCES customers (id) ON DELETE CASCADE,
  status text NOT NULL
);
CREATE UNIQUE INDEX one_active ON subscriptions (customer_id) WHERE status = 'active';
```
"""


def test_the_run_page_shows_relations_and_the_story_finding(
    client: Client, owner: AbstractBaseUser, workspace: Workspace
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=DOCUMENT)
    run = make_finished_run(revision=revision, user=owner)
    client.force_login(owner)
    page = client.get(f"/runs/{run.pk}/").content.decode()
    assert (
        '(customer_id) → customers <span class="muted">nullable</span> <span class="badge">on delete cascade</span>'
        in page
    )
    assert "unique (customer_id) where status = &#x27;active&#x27;" in page
    rules = set(run.findings.values_list("rule_id", flat=True))
    assert "sec.dp.story-retention-cascade" in rules
