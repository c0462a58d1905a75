"""Profiles Insights: the tabs, the 30-day window, the 500-record cap, search by
message id, identifier value or code, and masking for readers without PII Access."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from engage.models import IdentityLog, InsightKind
from tests.engage.explorer_support import EMAIL, Setup, setup
from workspace.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def s(alice, make_user, make_workspace) -> Setup:
    return setup(alice, make_user, make_workspace)


def log(s: Setup, kind: str, code: str, message_id: str, *, age_days: float = 0, **detail) -> None:
    IdentityLog.objects.create(
        space=s.space,
        kind=kind,
        code=code,
        message=f"{code} happened",
        message_id=message_id,
        source_id=s.source.pk,
        detail=detail,
        time=timezone.now() - dt.timedelta(days=age_days),
    )


def page(s: Setup, user, **params) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"{s.base}/insights/", params)
    assert response.status_code == 200
    return response.content.decode()


def test_errors_and_violations_tab_and_success_tab(s: Setup) -> None:
    log(s, InsightKind.ERROR, "no_matching_identifiers", "msg-err-zq1")
    log(s, InsightKind.VIOLATION, "identifier_value_limit_exceeded", "msg-vio-zq2")
    log(s, InsightKind.SUCCESS, "profile_created", "msg-ok-zq3")
    errors = page(s, s.owner)
    assert "msg-err-zq1" in errors and "msg-vio-zq2" in errors and "msg-ok-zq3" not in errors
    success = page(s, s.owner, tab="success")
    assert "msg-ok-zq3" in success and "msg-err-zq1" not in success


def test_only_the_last_30_days(s: Setup) -> None:
    log(s, InsightKind.ERROR, "no_matching_identifiers", "msg-new-zq4", age_days=29)
    log(s, InsightKind.ERROR, "no_matching_identifiers", "msg-old-zq5", age_days=31)
    body = page(s, s.owner)
    assert "msg-new-zq4" in body and "msg-old-zq5" not in body


def test_filter_by_kind_and_time_range(s: Setup) -> None:
    log(s, InsightKind.ERROR, "no_matching_identifiers", "msg-e-zq9", age_days=0.5)
    log(s, InsightKind.VIOLATION, "id_value_blocked", "msg-v-zq10", age_days=3)
    errors = page(s, s.owner, kind="ERROR")
    assert "msg-e-zq9" in errors and "msg-v-zq10" not in errors
    violations = page(s, s.owner, kind="VIOLATION")
    assert "msg-v-zq10" in violations and "msg-e-zq9" not in violations
    day = page(s, s.owner, window="24h")
    assert "msg-e-zq9" in day and "msg-v-zq10" not in day
    week = page(s, s.owner, window="7d")
    assert "msg-e-zq9" in week and "msg-v-zq10" in week


def test_search_by_message_id_code_or_identifier_value(s: Setup) -> None:
    log(s, InsightKind.VIOLATION, "id_value_blocked", "msg-a-zq6", value="anon-blocked-zq")
    log(s, InsightKind.VIOLATION, "identifier_value_limit_exceeded", "msg-b-zq7")
    by_id = page(s, s.owner, q="msg-a-zq6")
    assert "msg-a-zq6" in by_id and "msg-b-zq7" not in by_id
    by_code = page(s, s.owner, q="identifier_value_limit_exceeded")
    assert "msg-b-zq7" in by_code and "msg-a-zq6" not in by_code
    by_value = page(s, s.owner, q="anon-blocked-zq")
    assert "msg-a-zq6" in by_value and "msg-b-zq7" not in by_value


def test_at_most_500_records(s: Setup) -> None:
    now = timezone.now()
    IdentityLog.objects.bulk_create(
        IdentityLog(
            space=s.space,
            kind=InsightKind.SUCCESS,
            code="profile_created",
            message="created",
            message_id=f"bulk-zq-{n}",
            time=now - dt.timedelta(seconds=n),
        )
        for n in range(501)
    )
    body = page(s, s.owner, tab="success")
    assert body.count('class="insight-row"') == 500
    assert 'id="insight-limit"' in body
    assert "bulk-zq-500<" not in body  # the oldest one is left out


def test_identifier_values_are_masked_and_unsearchable_without_pii_access(s: Setup) -> None:
    log(s, InsightKind.VIOLATION, "identifier_value_limit_exceeded", "msg-c-zq8", email=EMAIL)
    assert EMAIL in page(s, s.owner)
    shown = page(s, s.reader)
    assert "msg-c-zq8" in shown and EMAIL not in shown
    assert "msg-c-zq8" not in page(s, s.reader, q=EMAIL)


def test_members_without_a_space_role_get_404(s: Setup, make_user) -> None:
    outsider = make_user("outsider")
    Membership.objects.create(workspace=s.workspace, user=outsider)
    client = Client()
    client.force_login(outsider)
    assert client.get(f"{s.base}/insights/").status_code == 404
