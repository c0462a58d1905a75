"""The audience and computed trait builder pages: create through the builder's POST
(the JSON it posts, or the Text tab's query language), validation errors shown with
their JSON Pointers and nothing created, the live preview's answers, edit keeping the
key, and who may use them (readers get 403)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from engage.models import Computation, ComputationKind, ComputationRun
from engage.services.computations import do_create_computation
from tests.engage.compute_support import World, audience, did, trait, within
from tests.engage.spaces_support import Acme, make_acme
from workspace.models import AuditEntry

pytestmark = pytest.mark.django_db

URL = "/workspaces/acme/engage/spaces/main"


@pytest.fixture
def acme() -> Acme:
    acme = make_acme()
    acme.space("main")
    return acme


@pytest.fixture
def world(acme: Acme) -> World:
    return World(acme.workspace.spaces.get(slug="main"))


def browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


BUYERS = audience(
    {"op": "and", "args": [did("Order Completed", window=within(7)), trait("plan", "eq", "pro")]}
)
COUNTER = {
    "version": 1,
    "type": "users",
    "kind": "event_counter",
    "event": "Order Completed",
    "where": None,
    "window": within(30),
}


def save(client: Client, path: str, name: str, definition: Any, **extra: str) -> Any:
    body = {"display_name": name, "description": "", "definition": json.dumps(definition)}
    return client.post(path, {**body, **extra})


def test_create_an_audience_from_the_builder_and_go_to_its_overview(acme: Acme) -> None:
    client = browser(acme.owner)
    page = client.get(f"{URL}/audiences/new/")
    assert page.status_code == 200
    assert page.context["builder_data"]["definition"]["root"] == {"op": "and", "args": []}

    saved = save(client, f"{URL}/audiences/new/", "Pro Buyers", BUYERS, editor="builder")

    created = Computation.objects.get()
    assert (created.key, created.kind, created.display_name) == (
        "pro_buyers",
        ComputationKind.AUDIENCE,
        "Pro Buyers",
    )
    assert created.definition == BUYERS
    assert created.compute_mode == "realtime"
    assert saved.status_code == 302
    assert saved["Location"] == reverse(
        "engage:audience", kwargs={"slug": "acme", "space": "main", "key": "pro_buyers"}
    )


def test_the_text_tab_saves_what_the_query_language_says(acme: Acme) -> None:
    client = browser(acme.owner)
    text = "event('Order Completed').within(7 days).count() >= 1 AND trait('plan') = 'pro'"
    saved = client.post(
        f"{URL}/audiences/new/",
        {
            "display_name": "Pro Buyers",
            "editor": "text",
            "text": text,
            "include_historical": "on",
            "definition": "{}",  # the builder's JSON is ignored in the Text tab
        },
    )
    assert saved.status_code == 302
    assert Computation.objects.get().definition == BUYERS


def test_validation_errors_are_shown_with_their_paths_and_nothing_is_created(
    acme: Acme,
) -> None:
    client = browser(acme.owner)
    bad = audience(
        {
            "op": "and",
            "args": [
                did(
                    "Order Completed",
                    window={"type": "within", "value": 0, "unit": "days", "relative_to": "now"},
                ),
                {"kind": "audience", "audience_key": "nobody_here", "member": True},
            ],
        }
    )
    refused = save(client, f"{URL}/audiences/new/", "Broken", bad)
    assert refused.status_code == 400
    errors = refused.context["errors"]
    assert {"path": "/root/args/0/window/value", "message": "must be greater than 0"} in errors
    html = refused.content.decode()
    assert "definition/root/args/0/window/value" in html
    # The page keeps what was posted, so nothing typed is lost.
    assert refused.context["builder_data"]["definition"] == bad
    assert refused.context["values"]["display_name"] == "Broken"

    unknown = save(
        client,
        f"{URL}/audiences/new/",
        "Broken",
        audience({"kind": "audience", "audience_key": "nobody_here", "member": True}),
    )
    assert unknown.status_code == 400
    assert unknown.context["errors"] == [
        {
            "path": "/root/audience_key",
            "message": "there is no audience 'nobody_here' in this space",
        }
    ]

    syntax = client.post(
        f"{URL}/audiences/new/",
        {"display_name": "Broken", "editor": "text", "text": "event('x'"},
    )
    assert syntax.status_code == 400
    assert syntax.context["errors"][0]["message"].startswith("text: ")
    assert syntax.context["text"] == "event('x'"
    assert not Computation.objects.exists()


def test_a_name_without_letters_is_refused_on_its_field(acme: Acme) -> None:
    refused = save(browser(acme.owner), f"{URL}/audiences/new/", "!!!", BUYERS)
    assert refused.status_code == 400
    assert "key" in refused.context["field_errors"]
    assert not Computation.objects.exists()


def test_the_preview_counts_the_members_and_names_the_mode(acme: Acme, world: World) -> None:
    world.identify("ann", plan="pro")
    world.identify("bob", plan="pro")
    world.identify("cat", plan="free")
    for user in ("ann", "bob", "cat"):
        world.track(user, "Order Completed", total=10)
    client = browser(acme.owner)
    everything = audience(
        {"op": "and", "args": [did("Order Completed"), trait("plan", "eq", "pro")]}
    )
    answer = client.post(
        f"{URL}/audiences/new/preview/",
        {"definition": everything},
        content_type="application/json",
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["size"] == 2
    assert body["compute_mode"] == "realtime"
    assert len(body["sample"]) == 2
    assert body["text"] == ("event('Order Completed').count() >= 1 AND trait('plan') = 'pro'")

    # The Text tab's text is parsed, and answered with its definition.
    parsed = client.post(
        f"{URL}/audiences/new/preview/",
        {"text": "trait('plan') = 'free'", "definition": audience({"op": "and", "args": []})},
        content_type="application/json",
    )
    assert parsed.json()["size"] == 1
    assert parsed.json()["definition"]["root"] == trait("plan", "eq", "free")

    between = audience(
        did(
            "Order Completed",
            window={
                "type": "between",
                "start": {"value": 1, "unit": "days"},
                "end": {"value": 9, "unit": "days"},
            },
        )
    )
    batch = client.post(
        f"{URL}/audiences/new/preview/", {"definition": between}, content_type="application/json"
    )
    assert batch.json()["compute_mode"] == "batch"
    assert batch.json()["batch_reasons"][0]["path"] == "/root/window"

    bad = client.post(
        f"{URL}/audiences/new/preview/",
        {"definition": audience({"kind": "trait", "trait": "plan", "cmp": "nope", "value": 1})},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["path"] == "/root/cmp"


def test_the_trait_preview_shows_the_value_distribution(acme: Acme, world: World) -> None:
    world.track("ann", "Order Completed")
    world.track("ann", "Order Completed")
    world.track("bob", "Order Completed")
    world.track("cat", "Order Completed")
    answer = browser(acme.owner).post(
        f"{URL}/computed-traits/new/preview/",
        {"definition": {**COUNTER, "window": None}},
        content_type="application/json",
    )
    body = answer.json()
    assert body["size"] == 3
    assert body["distribution"] == [{"value": 1, "count": 2}, {"value": 2, "count": 1}]


def test_create_a_computed_trait_and_edit_it_keeping_its_key(acme: Acme) -> None:
    client = browser(acme.owner)
    created = save(client, f"{URL}/computed-traits/new/", "Orders Last Month", COUNTER)
    assert created.status_code == 302
    trait_row = Computation.objects.get(kind=ComputationKind.TRAIT)
    assert trait_row.key == "orders_last_month"
    assert created["Location"] == reverse(
        "engage:computed-trait",
        kwargs={"slug": "acme", "space": "main", "key": "orders_last_month"},
    )

    page = client.get(f"{URL}/computed-traits/orders_last_month/edit/")
    assert page.context["builder_data"]["definition"] == COUNTER
    assert page.context["values"]["key"] == "orders_last_month"

    revenue = {**COUNTER, "kind": "aggregation", "aggregation": "sum", "property": "total"}
    edited = save(
        client,
        f"{URL}/computed-traits/orders_last_month/edit/",
        "Revenue Last Month",
        revenue,
        key="something_else",  # a posted key is ignored: keys never change
    )
    assert edited.status_code == 302
    trait_row.refresh_from_db()
    assert (trait_row.key, trait_row.display_name, trait_row.definition) == (
        "orders_last_month",
        "Revenue Last Month",
        revenue,
    )


def test_edit_loads_the_audience_and_refuses_a_mode_change(acme: Acme) -> None:
    do_create_computation(
        principal=acme.principal,
        space=acme.workspace.spaces.get(slug="main"),
        kind=ComputationKind.AUDIENCE,
        display_name="Pro Buyers",
        definition=BUYERS,
    )
    client = browser(acme.owner)
    page = client.get(f"{URL}/audiences/pro_buyers/edit/")
    assert page.status_code == 200
    assert page.context["builder_data"]["definition"] == BUYERS
    assert page.context["text"] == (
        "event('Order Completed').within(7 days).count() >= 1 AND trait('plan') = 'pro'"
    )
    funnel = audience(
        did("Order Completed", where=did("Refund", window=within(1, relative_to="parent")))
    )
    refused = save(client, f"{URL}/audiences/pro_buyers/edit/", "Pro Buyers", funnel)
    assert refused.status_code == 400
    assert "real-time and batch cannot be switched" in refused.context["errors"][0]["message"]
    assert Computation.objects.get().definition == BUYERS
    assert client.get(f"{URL}/audiences/nobody/edit/").status_code == 404


def test_readers_get_403_and_engage_users_build(acme: Acme) -> None:
    reader = acme.member("unify-and-engage-read-only")
    engage_user = acme.member("unify-read-only-engage-user")
    as_reader = browser(reader)
    assert as_reader.get(f"{URL}/audiences/new/").status_code == 403
    assert as_reader.get(f"{URL}/computed-traits/new/").status_code == 403
    assert save(as_reader, f"{URL}/audiences/new/", "Pro Buyers", BUYERS).status_code == 403
    preview = as_reader.post(
        f"{URL}/audiences/new/preview/", {"definition": BUYERS}, content_type="application/json"
    )
    assert preview.status_code == 403
    assert not Computation.objects.exists()

    built = save(browser(engage_user), f"{URL}/audiences/new/", "Pro Buyers", BUYERS)
    assert built.status_code == 302
    assert as_reader.get(f"{URL}/audiences/pro_buyers/edit/").status_code == 403
    stranger = acme.member()
    assert browser(stranger).get(f"{URL}/audiences/new/").status_code == 404


def test_saving_an_untouched_audience_changes_nothing_and_queues_no_run(acme: Acme) -> None:
    created = do_create_computation(
        principal=acme.principal,
        space=acme.workspace.spaces.get(slug="main"),
        kind=ComputationKind.AUDIENCE,
        display_name="Pro Buyers",
        definition=BUYERS,
    )
    runs = list(ComputationRun.objects.values_list("pk", flat=True))
    audits = AuditEntry.objects.count()
    saved = save(browser(acme.owner), f"{URL}/audiences/pro_buyers/edit/", "Pro Buyers", BUYERS)
    assert saved.status_code == 302
    assert list(ComputationRun.objects.values_list("pk", flat=True)) == runs
    assert AuditEntry.objects.count() == audits
    created.refresh_from_db()
    assert created.definition == BUYERS
