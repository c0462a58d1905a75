"""Privacy > End User Privacy: owners request deletions and suppressions, see the
history and the suppressed users, and lift a suppression; members get neither the
pages nor their sidebar entry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from privacy.models import Regulation, SuppressedUser
from privacy.services import regulations as service
from switchyard.access import Principal
from workspace.models import AuditEntry, Membership, Workspace

pytestmark = pytest.mark.django_db

URL = "/workspaces/acme/privacy/end-users/"
SUPPRESSED = URL + "suppressed/"
UNSUPPRESS = URL + "unsuppress"


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme", "Acme")


@pytest.fixture
def owner(acme: Workspace, alice: User) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def state() -> tuple[Any, ...]:
    return (
        list(Regulation.objects.values_list("regulation_type", "subject_ids")),
        sorted(SuppressedUser.objects.values_list("user_id", flat=True)),
        AuditEntry.objects.filter(action__startswith="regulation.").count(),
    )


def test_an_owner_requests_a_deletion_and_sees_it_in_the_history(owner: Client) -> None:
    page = owner.get(URL).content.decode()
    assert 'id="regulation-form"' in page
    assert 'data-confirm="Submit this request?' in page
    assert "End User Privacy" in page  # the sidebar entry and the heading

    ids = "customer-7781\n\n  customer-7782  \ncustomer-7781\n"
    response = owner.post(URL, {"regulation_type": "SUPPRESS_WITH_DELETE", "subject_ids": ids})
    assert response.status_code == 302
    regulation = Regulation.objects.get()
    assert regulation.subject_ids == ["customer-7781", "customer-7782"]
    assert sorted(SuppressedUser.objects.values_list("user_id", flat=True)) == [
        "customer-7781",
        "customer-7782",
    ]
    page = owner.get(URL).content.decode()
    assert "deletion runs in the background" in page
    assert f'id="regulation-{regulation.key_id}"' in page
    assert "customer-7782" in page
    assert "Waiting" in page  # INITIALIZED until the worker takes it


def test_a_refused_request_shows_why_and_writes_nothing(owner: Client) -> None:
    before = state()
    ids = "\n".join(f"customer-{i}" for i in range(5001))
    response = owner.post(URL, {"regulation_type": "DELETE_ONLY", "subject_ids": ids})
    assert response.status_code == 400
    assert "at most 5000 subject ids" in response.content.decode()
    assert state() == before


def test_suppress_and_unsuppress_from_the_suppressed_users_tab(owner: Client) -> None:
    response = owner.post(SUPPRESSED, {"user_id": "customer-4410"})
    assert response.status_code == 302
    page = owner.get(SUPPRESSED).content.decode()
    assert "<code>customer-4410</code>" in page
    assert 'data-confirm="Stop suppressing customer-4410?' in page
    assert Regulation.objects.get().regulation_type == "SUPPRESS_ONLY"

    response = owner.post(UNSUPPRESS, {"user_id": "customer-4410"})
    assert response.status_code == 302
    assert not SuppressedUser.objects.exists()
    kinds = list(Regulation.objects.order_by("pk").values_list("regulation_type", flat=True))
    assert kinds == ["SUPPRESS_ONLY", "UNSUPPRESS"]
    assert "<code>customer-4410</code>" not in owner.get(SUPPRESSED).content.decode()


def test_the_history_pages_older_requests(owner: Client, alice: User, acme: Workspace) -> None:
    for i in range(27):
        service.do_create_regulation(
            principal=Principal(alice),
            workspace=acme,
            regulation_type="SUPPRESS_ONLY",
            subject_type="USER_ID",
            subject_ids=[f"customer-{i:03d}"],
        )
    first = owner.get(URL)
    assert first.content.decode().count('id="regulation-rg') == 25
    token = first.context["next_token"]
    older = owner.get(URL, {"page_token": token}).content.decode()
    assert older.count('id="regulation-rg') == 2
    assert "customer-000" in older and "customer-026" not in older


def test_members_get_neither_the_pages_nor_the_entry(acme: Workspace, bob: User) -> None:
    Membership.objects.create(workspace=acme, user=bob)
    client = Client()
    client.force_login(bob)
    before = state()
    for url in (URL, SUPPRESSED):
        assert client.get(url).status_code == 403
    assert (
        client.post(URL, {"regulation_type": "DELETE_ONLY", "subject_ids": "x"}).status_code == 403
    )
    assert client.post(SUPPRESSED, {"user_id": "x"}).status_code == 403
    assert client.post(UNSUPPRESS, {"user_id": "x"}).status_code == 403
    assert state() == before
    assert "End User Privacy" not in client.get("/workspaces/acme/").content.decode()
