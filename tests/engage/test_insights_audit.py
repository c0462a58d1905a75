"""Profiles Insights' Audit trail tab: the changes to this space's identity
resolution settings and configuration (who, when, what), newest first, 30 days,
at most 500, searchable, values masked for readers without PII Access."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from engage.models import IdentifierSetting
from engage.services.identity_settings import do_update_identifier, seed_defaults
from engage.services.spaces import do_update_space
from engage.services.tokens import do_create_space_token
from switchyard.access import Principal
from tests.engage.explorer_support import EMAIL, Setup, make_space, setup
from workspace.models import AuditEntry

pytestmark = pytest.mark.django_db

ROW = re.compile(r'<tr class="audit-row">(.*?)</tr>\s*(?=<tr class="audit-row">|</tbody>)', re.S)


@pytest.fixture
def s(alice, make_user, make_workspace) -> Setup:
    made = setup(alice, make_user, make_workspace)
    seed_defaults(made.space)
    return made


def page(s: Setup, user, **params) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"{s.base}/insights/", {"tab": "audit", **params})
    assert response.status_code == 200
    return response.content.decode()


def rows(body: str) -> list[str]:
    return ROW.findall(body)


def change_email_limit(s: Setup, limit: int, **changes) -> None:
    setting = IdentifierSetting.objects.get(space=s.space, type="email")
    do_update_identifier(
        principal=Principal(s.owner), setting=setting, changes={"limit": limit, **changes}
    )


def test_the_spaces_setting_changes_newest_first_with_who_and_what(s: Setup) -> None:
    change_email_limit(s, 3)
    do_update_space(
        principal=Principal(s.owner), space=s.space, changes={"display_name": "Production zq"}
    )
    do_create_space_token(principal=Principal(s.owner), space=s.space, description="crm-zq")
    other = make_space(s.workspace, "prod-eu")  # its slug starts with this one's
    seed_defaults(other)
    do_update_space(principal=Principal(s.owner), space=other, changes={"display_name": "EU zq"})

    body = page(s, s.owner)
    shown = rows(body)
    assert [re.findall(r'class="audit-action">([^<]+)<', r) for r in shown] == [
        ["space_token.created"],
        ["space.updated"],
        ["identifier.updated"],
    ]
    assert 'class="nav-link active" href="?tab=audit"' in body
    assert all(f'<td class="audit-actor">{s.owner.username}</td>' in r for r in shown)
    assert "<code>identifiers/email</code>" in shown[2]
    assert "<td><code>limit</code></td><td><code>5</code></td><td><code>3</code></td>" in shown[2]
    assert "This space" in shown[1] and "Production zq" in shown[1]
    assert "EU zq" not in body  # the other space's change


def test_only_the_last_30_days_and_not_a_former_space_of_the_same_slug(s: Setup) -> None:
    change_email_limit(s, 3)
    change_email_limit(s, 4)
    change_email_limit(s, 2)
    first, second, third = AuditEntry.objects.filter(action="identifier.updated").order_by("id")
    now = timezone.now()
    AuditEntry.objects.filter(pk=first.pk).update(time=now - dt.timedelta(days=31))
    AuditEntry.objects.filter(pk=second.pk).update(time=now - dt.timedelta(days=29))
    type(s.space).objects.filter(pk=s.space.pk).update(create_time=now - dt.timedelta(days=60))

    shown = rows(page(s, s.owner))
    assert len(shown) == 2
    assert "<td><code>4</code></td><td><code>2</code></td>" in shown[0]
    assert "<td><code>3</code></td><td><code>4</code></td>" in shown[1]
    # An entry from before the space existed belongs to a deleted space of its slug.
    type(s.space).objects.filter(pk=s.space.pk).update(create_time=now - dt.timedelta(days=1))
    assert len(rows(page(s, s.owner))) == 1
    assert len(rows(page(s, s.owner, window="24h"))) == 1
    AuditEntry.objects.filter(pk=third.pk).update(time=now - dt.timedelta(days=2))
    assert rows(page(s, s.owner, window="24h")) == []


def test_search_by_action_user_resource_or_value(s: Setup, make_user) -> None:
    change_email_limit(s, 3)
    do_update_space(
        principal=Principal(s.owner), space=s.space, changes={"display_name": "Renamed zq5"}
    )
    assert len(rows(page(s, s.owner))) == 2
    by_action = rows(page(s, s.owner, q="space.updated"))
    assert len(by_action) == 1 and "Renamed zq5" in by_action[0]
    by_value = rows(page(s, s.owner, q="renamed ZQ5"))
    assert len(by_value) == 1 and "Renamed zq5" in by_value[0]
    by_resource = rows(page(s, s.owner, q="identifiers/email"))
    assert len(by_resource) == 1 and "identifier.updated" in by_resource[0]
    assert len(rows(page(s, s.owner, q=s.owner.username))) == 2
    assert rows(page(s, s.owner, q="nothing-like-it-zq")) == []


def test_at_most_500_records(s: Setup) -> None:
    AuditEntry.objects.bulk_create(
        AuditEntry(
            workspace=s.workspace,
            workspace_slug=s.workspace.slug,
            action="identifier.updated",
            resource_type="identifier",
            resource_name=f"{s.space.resource_name}/identifiers/bulk-{n}",
            after={"limit": n},
        )
        for n in range(501)
    )
    body = page(s, s.owner)
    assert len(rows(body)) == 500
    assert 'id="insight-limit"' in body
    assert "<code>identifiers/bulk-0</code>" not in body  # the oldest one is left out


def test_values_are_masked_and_unsearchable_without_pii_access(s: Setup) -> None:
    change_email_limit(s, 3, blocked_values=[{"value": EMAIL, "kind": "EXACT"}])
    assert EMAIL in rows(page(s, s.owner))[0]
    shown = rows(page(s, s.reader))
    assert len(shown) == 1 and "identifier.updated" in shown[0] and EMAIL not in shown[0]
    assert rows(page(s, s.reader, q=EMAIL)) == []
    assert len(rows(page(s, s.owner, q=EMAIL))) == 1
