"""The destinations fragment of an audience's overview: the connected destinations
with their sync status, connecting one of the workspace's destinations and
disconnecting it by htmx posts that answer the fragment, errors shown with
nothing changed, read-only roles seeing no forms, no inline script or style."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from connections.models import Destination
from engage.models import Computation, ComputationDestination, SpaceSource, SyncState
from engage.services.computations import do_create_computation
from tests.connections.delivery_support import make_setup
from tests.engage.compute_support import did, within
from tests.engage.spaces_support import Acme, make_acme

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
URL = "/workspaces/acme/engage/spaces/main/computations/buyers/destinations/"


@pytest.fixture
def acme() -> Acme:
    acme = make_acme()
    acme.space("main")
    return acme


@pytest.fixture
def buyers(acme: Acme) -> Computation:
    return do_create_computation(
        principal=acme.principal,
        space=acme.workspace.spaces.get(slug="main"),
        kind="audience",
        display_name="Buyers",
        definition={
            "version": 1,
            "type": "users",
            "include_anonymous": False,
            "include_historical": True,
            "root": did("Order Completed", window=within(7)),
        },
    )


@pytest.fixture
def webhook(acme: Acme) -> Destination:
    return make_setup(acme.owner, acme.workspace, slug="engage-out").destination()


def browser(acme: Acme, user: object | None = None) -> Client:
    client = Client()
    client.force_login(user or acme.owner)  # type: ignore[arg-type]
    return client


def no_inline_code(html: str) -> None:
    assert "<script" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)


def test_the_url_is_the_one_the_overview_loads(buyers: Computation) -> None:
    from django.urls import reverse

    url = reverse(
        "engage:computation-destinations", kwargs={"slug": "acme", "space": "main", "key": "buyers"}
    )
    assert url == URL


def test_connect_show_status_and_disconnect(
    acme: Acme, buyers: Computation, webhook: Destination
) -> None:
    client = browser(acme)
    empty = client.get(URL, headers=HTMX)
    html = empty.content.decode()
    assert empty.status_code == 200
    assert 'id="no-destinations"' in html
    assert f'<option value="{webhook.key_id}">' in html
    no_inline_code(html)

    answer = client.post(URL, {"destination": webhook.key_id, "send_track": "on"}, headers=HTMX)
    assert answer.status_code == 200
    row = ComputationDestination.objects.get()
    assert (row.send_identify, row.send_track, row.include_anonymous) == (False, True, False)
    html = answer.content.decode()
    assert f'id="destination-{webhook.key_id}" data-sync-state="PENDING"' in html
    assert 'hx-trigger="every 3s"' in html  # polled while the sync is pending
    assert f'<option value="{webhook.key_id}">' not in html  # connected already

    ComputationDestination.objects.filter(pk=row.pk).update(
        sync_state=SyncState.SYNCED,
        synced_change_id=0,
        last_sync_time=timezone.now(),
        profiles_synced=12,
        messages_sent=30,
    )
    html = client.get(URL, headers=HTMX).content.decode()
    assert 'data-sync-state="SYNCED"' in html
    assert '<td class="profiles-synced">12</td>' in html
    assert '<td class="messages-sent">30</td>' in html
    assert 'hx-trigger="every 3s"' not in html

    gone = client.post(f"{URL}{webhook.key_id}/disconnect/", headers=HTMX)
    assert gone.status_code == 200
    assert 'id="no-destinations"' in gone.content.decode()
    assert not ComputationDestination.objects.exists()


def test_without_htmx_a_post_goes_back_to_the_overview(
    acme: Acme, buyers: Computation, webhook: Destination
) -> None:
    answer = browser(acme).post(URL, {"destination": webhook.key_id, "send_identify": "on"})
    assert answer.status_code == 302
    assert answer["Location"] == "/workspaces/acme/engage/spaces/main/audiences/buyers/"
    assert ComputationDestination.objects.count() == 1


def test_errors_are_shown_and_change_nothing(
    acme: Acme, buyers: Computation, webhook: Destination
) -> None:
    client = browser(acme)
    neither = client.post(URL, {"destination": webhook.key_id}, headers=HTMX)
    assert neither.status_code == 400
    assert "send_identify or send_track" in neither.content.decode()
    unknown = client.post(URL, {"destination": "dst_nope", "send_identify": "on"}, headers=HTMX)
    assert unknown.status_code == 400
    SpaceSource.objects.create(space=acme.workspace.spaces.get(slug="main"), source=webhook.source)
    feeding = client.get(URL, headers=HTMX).content.decode()
    assert 'id="no-connectable"' in feeding
    assert not ComputationDestination.objects.exists()


def test_read_only_roles_see_the_status_without_forms(
    acme: Acme, buyers: Computation, webhook: Destination
) -> None:
    client = browser(acme)
    client.post(URL, {"destination": webhook.key_id, "send_identify": "on"}, headers=HTMX)
    reader = browser(acme, acme.member("unify-and-engage-read-only"))
    html = reader.get(URL, headers=HTMX).content.decode()
    assert f'id="destination-{webhook.key_id}"' in html
    assert "<form" not in html
    refused = reader.post(f"{URL}{webhook.key_id}/disconnect/", headers=HTMX)
    assert refused.status_code == 403
    assert ComputationDestination.objects.count() == 1
    stranger = browser(acme, acme.member())
    assert stranger.get(URL, headers=HTMX).status_code == 404


def test_a_batch_audience_is_computed_without_destinations_or_not(acme: Acme) -> None:
    between = {
        "type": "between",
        "start": {"value": 1, "unit": "days"},
        "end": {"value": 9, "unit": "days"},
    }
    lapsed = do_create_computation(
        principal=acme.principal,
        space=acme.workspace.spaces.get(slug="main"),
        kind="audience",
        display_name="Lapsed",
        definition={
            "version": 1,
            "type": "users",
            "include_anonymous": False,
            "include_historical": True,
            "root": did("Order Completed", window=between),
        },
    )
    assert lapsed.compute_mode == "batch"
    url = URL.replace("/buyers/", "/lapsed/")
    client = browser(acme)
    html = client.get(url, headers=HTMX).content.decode()
    assert (
        'name="compute_without_destinations" id="id_compute_without_destinations" checked' in html
    )

    answer = client.post(f"{url}compute-without/", {}, headers=HTMX)
    assert answer.status_code == 200
    lapsed.refresh_from_db()
    assert (lapsed.compute_without_destinations, lapsed.status) == (False, "NOT_COMPUTING")
    assert "is not computed until one is" in answer.content.decode()

    client.post(f"{url}compute-without/", {"compute_without_destinations": "on"}, headers=HTMX)
    lapsed.refresh_from_db()
    assert (lapsed.compute_without_destinations, lapsed.status) == (True, "PREPARING")

    reader = browser(acme, acme.member("unify-and-engage-read-only"))
    assert reader.post(f"{url}compute-without/", {}, headers=HTMX).status_code == 403
    assert 'id="compute-without-destinations"' not in reader.get(url, headers=HTMX).content.decode()
    lapsed.refresh_from_db()
    assert lapsed.compute_without_destinations is True
