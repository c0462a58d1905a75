"""The Inventory: classified paths, through the API and the pages; filters, the
details, the CSV of the whole Inventory, Green after Red, owners only."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from connections.models import Source
from connections.services.destinations import do_create_destination
from privacy.models import InventoryField
from privacy.services.fields import do_add_inventory_field
from switchyard.access import Principal
from tests.privacy.inbox_support import add_source, identify, send, track
from workspace.models import AuditEntry, Membership, UserGroup, Workspace
from workspace.services.grants import do_create_grant
from workspace.services.groups import do_create_group

pytestmark = pytest.mark.django_db
API = "/v1beta/workspaces/acme/privacy/inventory"
UI = "/workspaces/acme/privacy/inventory"


@pytest.fixture(autouse=True)
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme")


@pytest.fixture
def prod(alice: User, acme: Workspace) -> Source:
    return add_source(alice, acme, "web", labels=("environment:prod",))


@pytest.fixture
def dev(alice: User, acme: Workspace) -> Source:
    return add_source(alice, acme, "staging", labels=("environment:dev",))


def add(api: APIClient, path: str, classification: str) -> dict[str, object]:
    answer = api.post(
        API,
        {"inventory_field": {"path": path, "classification": classification}},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    return dict(answer.json())


def paths(api: APIClient, query: str = "") -> list[str]:
    answer = api.get(f"{API}?page_size=100{query}")
    assert answer.status_code == 200, answer.content
    return sorted(f["path"] for f in answer.json()["inventory_fields"])


def test_add_get_update_remove_each_audited(api: APIClient, acme: Workspace) -> None:
    added = add(api, "traits.email", "YELLOW")
    assert added["restricted"] is True and added["classification"] == "YELLOW"
    name = added["name"]
    assert name == f"workspaces/acme/privacy/inventory/{added['id']}"
    url = f"{API}/{added['id']}"
    assert api.get(url).json()["path"] == "traits.email"

    patched = api.patch(
        url,
        {
            "inventory_field": {"classification": "RED"},
            "update_mask": {"paths": ["inventory_field.classification"]},
        },
        format="json",
    )
    assert patched.status_code == 200 and patched.json()["classification"] == "RED"
    assert api.delete(url).status_code == 200
    assert api.get(url).status_code == 404

    actions = list(
        AuditEntry.objects.filter(resource_name=name)
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "inventory_field.added",
        "inventory_field.updated",
        "inventory_field.removed",
    ]


def test_green_after_red_stays_restricted(api: APIClient, alice: User, client: Client) -> None:
    added = add(api, "traits.ssn", "RED")
    body = {
        "inventory_field": {"classification": "GREEN"},
        "update_mask": {"paths": ["inventory_field.classification"]},
    }
    answer = api.patch(f"{API}/{added['id']}", body, format="json").json()
    assert (answer["classification"], answer["restricted"]) == ("GREEN", True)

    client.force_login(alice)
    page = client.get(f"{UI}/{added['id']}/").content.decode()
    assert "stay masked" in page

    green = add(api, "traits.plan", "GREEN")
    assert green["restricted"] is False
    page = client.get(f"{UI}/{green['id']}/").content.decode()
    assert "its values are not masked" in page


def test_bad_input_changes_nothing(api: APIClient) -> None:
    for path, classification in (
        ("email", "RED"),  # not under context, traits or properties
        ("traits..email", "RED"),
        ("traits.email", "PURPLE"),
    ):
        answer = api.post(
            API,
            {"inventory_field": {"path": path, "classification": classification}},
            format="json",
        )
        assert answer.status_code == 400, (path, answer.content)
    add(api, "traits.email", "RED")
    again = api.post(
        API, {"inventory_field": {"path": "traits.email", "classification": "GREEN"}}, format="json"
    )
    assert again.status_code == 409 and again.json()["code"] == 6
    assert list(InventoryField.objects.values_list("classification", flat=True)) == ["RED"]
    path_patch = api.patch(
        f"{API}/{InventoryField.objects.get().key_id}",
        {
            "inventory_field": {"path": "traits.other"},
            "update_mask": {"paths": ["inventory_field.path"]},
        },
        format="json",
    )
    assert path_patch.status_code == 400
    assert InventoryField.objects.get().path == "traits.email"


def test_filters_by_classification_source_and_environment(
    api: APIClient, alice: User, prod: Source, dev: Source
) -> None:
    send(prod, identify(email="a@example.com", plan="pro"))
    send(dev, track("Test", debug_token="t"))
    add(api, "traits.email", "YELLOW")
    add(api, "traits.plan", "GREEN")
    add(api, "properties.debug_token", "RED")
    add(api, "properties.never_sent", "RED")

    assert paths(api, "&classification=RED") == ["properties.debug_token", "properties.never_sent"]
    assert paths(api, "&source=web") == ["traits.email", "traits.plan"]
    assert paths(api, "&environment=dev") == ["properties.debug_token"]
    assert paths(api, "&environment=prod&classification=GREEN") == ["traits.plan"]
    assert api.get(f"{API}?classification=PURPLE").status_code == 400

    # the page filters alike
    client = Client()
    client.force_login(alice)
    page = client.get(f"{UI}/?environment=dev").content.decode()
    assert 'data-path="properties.debug_token"' in page
    assert 'data-path="traits.email"' not in page


def test_csv_export_is_the_whole_inventory_whatever_the_filters(
    api: APIClient, alice: User, client: Client, prod: Source, dev: Source
) -> None:
    send(prod, identify(email="a@example.com"))
    send(prod, identify(email="b@example.com"))
    send(dev, identify(email="c@example.com"))
    add(api, "traits.email", "YELLOW")
    send(dev, track("=HYPERLINK(1)", ref="x"))  # a spreadsheet must not run it
    add(api, "properties.ref", "RED")

    answer = api.get(
        "/v1beta/workspaces/acme/privacy/inventory:export?classification=RED&source=web"
    )
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode())))
    assert [r["path"] for r in rows] == ["properties.ref", "traits.email"]
    assert rows[0]["events"] == "'=HYPERLINK(1)"
    email = rows[1]
    assert (email["classification"], email["masked"]) == ("YELLOW", "yes")
    assert email["sources"] == "staging; web" and email["sample_count"] == "3"
    assert email["classified_by"] == "alice"

    client.force_login(alice)
    page = client.get(f"{UI}/export.csv?classification=GREEN")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/csv")
    assert "attachment" in page["Content-Disposition"]
    assert page.content == answer.content


def test_details_show_sources_events_destinations_and_who_sees_values(
    alice: User,
    acme: Workspace,
    client: Client,
    prod: Source,
    dev: Source,
    make_user: Callable[..., User],
) -> None:
    do_create_destination(
        principal=Principal(alice),
        source=prod,
        definition="actions-webhook",
        settings={},
        enabled=False,
        display_name="Warehouse hook",
    )
    send(prod, identify(email="a@example.com"), track("Signed Up", email="a@example.com"))
    send(dev, identify(email="b@example.com"))
    field = do_add_inventory_field(
        principal=Principal(alice), workspace=acme, path="traits.email", classification="RED"
    )
    carol = make_user("carol-pii")
    Membership.objects.create(workspace=acme, user=carol)
    do_create_grant(
        principal=Principal(alice), workspace=acme, grantee=carol, role="pii-access", scope="all"
    )
    group: UserGroup = do_create_group(
        principal=Principal(alice), workspace=acme, name="Legal team"
    )
    do_create_grant(
        principal=Principal(alice), workspace=acme, grantee=group, role="pii-access", scope="all"
    )
    bystander = make_user("dave-no-pii")
    Membership.objects.create(workspace=acme, user=bystander)

    client.force_login(alice)
    page = client.get(f"{UI}/{field.key_id}/").content.decode()

    sources = page[page.index('id="field-sources"') : page.index('id="events-heading"')]
    assert 'data-source="staging"' in sources and 'data-source="web"' in sources
    events = page[page.index('id="field-events"') : page.index('id="destinations-heading"')]
    assert "identify" in events and "Signed Up" not in events  # traits.email: identify only
    destinations = page[page.index('id="field-destinations"') : page.index('id="access-heading"')]
    assert "Warehouse hook" in destinations
    holders = page[page.index('id="field-access"') :]
    assert "alice" in holders and "carol-pii" in holders and "Legal team" in holders
    assert "dave-no-pii" not in holders


def test_reclassify_and_remove_on_the_pages(alice: User, acme: Workspace, client: Client) -> None:
    client.force_login(alice)
    created = client.post(f"{UI}/", {"path": "traits.passport", "classification": "RED"})
    field = InventoryField.objects.get(path="traits.passport")
    assert created.status_code == 302 and created["Location"].endswith(f"/{field.key_id}/")

    assert client.post(f"{UI}/{field.key_id}/", {"classification": "GREEN"}).status_code == 302
    field.refresh_from_db()
    assert (field.classification, field.restricted) == ("GREEN", True)

    bad = client.post(f"{UI}/", {"path": "passport", "classification": "RED"})
    assert bad.status_code == 400 and InventoryField.objects.count() == 1

    removed = client.post(f"{UI}/{field.key_id}/remove")
    assert removed.status_code == 302 and not InventoryField.objects.exists()
    assert "inventory_field.removed" in AuditEntry.objects.values_list("action", flat=True)


def test_only_owners(
    alice: User,
    acme: Workspace,
    client: Client,
    make_user: Callable[..., User],
    token_client: Callable[..., APIClient],
) -> None:
    field = do_add_inventory_field(
        principal=Principal(alice), workspace=acme, path="traits.email", classification="RED"
    )
    member = make_user("member")
    Membership.objects.create(workspace=acme, user=member)
    do_create_grant(
        principal=Principal(alice), workspace=acme, grantee=member, role="pii-access", scope="all"
    )
    api = token_client(member)
    for answer in (
        api.get(API),
        api.get(f"{API}/{field.key_id}"),
        api.get("/v1beta/workspaces/acme/privacy/inventory:export"),
        api.delete(f"{API}/{field.key_id}"),
    ):
        assert answer.status_code == 403, answer.content
    client.force_login(member)
    for url in (f"{UI}/", f"{UI}/{field.key_id}/", f"{UI}/export.csv"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"{UI}/{field.key_id}/remove").status_code == 403
    assert InventoryField.objects.filter(pk=field.pk).exists()

    stranger = token_client(make_user("stranger"))
    assert stranger.get(API).status_code == 404
    assert stranger.get("/v1beta/workspaces/acme/privacy/inventory:export").status_code == 404


def test_export_errors_are_json_to_a_client_asking_for_csv(
    api: APIClient,
    alice: User,
    acme: Workspace,
    make_user: Callable[..., User],
    token_client: Callable[..., APIClient],
) -> None:
    url = "/v1beta/workspaces/acme/privacy/inventory:export"
    wrong_method = api.generic("TRACE", url, HTTP_ACCEPT="text/csv")
    assert wrong_method.status_code == 405
    assert wrong_method["Content-Type"] == "application/json"
    assert wrong_method["Allow"] == "GET, HEAD, OPTIONS"
    member = make_user("member")
    Membership.objects.create(workspace=acme, user=member)
    as_csv = token_client(member).get(url, HTTP_ACCEPT="text/csv")
    as_json = token_client(member).get(url)
    assert as_csv.status_code == 403
    assert as_csv.json() == as_json.json()  # the view's own message, not a generic one
