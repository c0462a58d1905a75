"""An owner builds an audience by clicking in the builder: an event condition and a
custom trait condition. The live preview counts exactly the profiles that match;
after Save and the first run, the audience's overview lists those members. The
Text tab shows the same definition in the query language, Edit loads it back, and the
computed trait builder's preview shows the value distribution; the CSP refuses nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from engage.models import Computation, ComputationRun
from engage.services import computation_runs
from engage.services.spaces import do_create_space
from switchyard.access import Principal
from tests.browser.support import PASSWORD, sign_in, watch_csp
from tests.engage.compute_support import World
from workspace.services.workspaces import do_create_workspace

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EVENT = "Order Completedqx"


def test_build_an_audience_by_clicking_preview_it_and_see_its_members(
    live_server: Any, page: Page, django_user_model: Any
) -> None:
    owner = django_user_model.objects.create_user(username="olga", password=PASSWORD)
    workspace = do_create_workspace(principal=Principal(owner), slug="acme", display_name="Acme")
    space = do_create_space(
        principal=Principal(owner), workspace=workspace, slug="prod", display_name="Prod"
    )
    world = World(space)
    # Members: pro plan and an order. Not: pro without an order, an order on the free plan.
    for user, plan, orders in (
        ("ann-qx", "pro", 2),
        ("dan-qx", "pro", 1),
        ("bob-qx", "pro", 0),
        ("cat-qx", "free", 1),
    ):
        world.identify(user, plan=plan)
        for _ in range(orders):
            world.track(user, EVENT, total=10)
    refused = watch_csp(page)
    base = live_server.url

    sign_in(page, base, "olga")
    page.goto(f"{base}/workspaces/acme/engage/spaces/prod/audiences/new/")
    page.locator("#id_display_name").fill("Pro Buyers")
    expect(page.locator("#id_key")).to_have_value("pro_buyers")

    page.get_by_role("button", name="Add an event condition").click()
    page.locator(".builder-event .builder-event-name").fill(EVENT)
    page.get_by_role("button", name="Add a custom trait condition").click()
    trait = page.locator(".builder-trait")
    trait.locator(".builder-trait-name").fill("plan")
    trait.get_by_label("Value").fill("pro")

    expect(page.locator("#preview-size")).to_have_text("2")
    expect(page.locator("#builder-mode")).to_contain_text("Realtime")
    expect(page.locator("#preview-sample li")).to_have_count(2)

    page.get_by_role("tab", name="Text").click()
    expect(page.locator("#id_text")).to_have_value(
        f"event('{EVENT}').count() >= 1 AND trait('plan') = 'pro'"
    )
    page.get_by_role("tab", name="Builder").click()
    expect(page.locator(".builder-trait .builder-trait-name")).to_have_value("plan")

    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(f"{base}/workspaces/acme/engage/spaces/prod/audiences/pro_buyers/")
    # The first run, as the worker would execute it.
    computation_runs.execute(ComputationRun.objects.get(computation__key="pro_buyers").pk)
    page.reload()
    rows = page.locator("#members .member-row")
    expect(rows).to_have_count(2)
    assert sorted(rows.locator("td:nth-child(2)").all_inner_texts()) == ["ann-qx", "dan-qx"]

    # Edit loads the saved definition into the builder; the key stays read-only.
    page.locator("#edit-computation").click()
    expect(page.locator(".builder-event .builder-event-name")).to_have_value(EVENT)
    expect(page.locator(".builder-trait .builder-trait-name")).to_have_value("plan")
    expect(page.locator("#id_key")).to_have_value("pro_buyers")
    expect(page.locator("#preview-size")).to_have_text("2")
    stored = Computation.objects.get(key="pro_buyers").definition
    assert json.loads(page.locator("#id_definition").input_value()) == stored

    # A computed trait: counting the orders shows how many profiles have each count
    # (every profile has one: bob's is 0).
    page.goto(f"{base}/workspaces/acme/engage/spaces/prod/computed-traits/new/")
    page.locator(".builder-event-name").fill(EVENT)
    expect(page.locator("#preview-size")).to_have_text("4")
    expect(page.locator("#preview-distribution tr")).to_have_count(3)
    assert page.locator("#preview-distribution tr").first.inner_text().split() == ["1", "2"]
    assert refused == []
