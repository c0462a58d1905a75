# ruff: noqa: S608 - the warehouse table's name is generated here.
"""An owner sets up Reverse ETL in the browser against a real warehouse database:
adds a PostgreSQL source from the catalog and tests its connection, writes a
model in the SQL editor and previews it, maps it to a webhook destination's
action, syncs it now and follows the sync into its history and detail."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from connections.reverse_etl.models import RetlMapping, RetlSync
from connections.reverse_etl.services import syncs as sync_service
from switchyard.access import Principal
from tests.browser.support import PASSWORD, sign_in, watch_csp
from tests.connections.delivery_support import Server, make_setup, server
from tests.connections.reverse_etl.warehouse_support import WarehouseDb, warehouse
from workspace.services.workspaces import do_create_workspace

__all__ = ["server", "warehouse"]
pytestmark = pytest.mark.browser


def test_source_model_mapping_and_a_sync_in_the_browser(
    live_server: Any,
    page: Page,
    django_user_model: Any,
    warehouse: WarehouseDb,
    server: Server,
    settings: Any,
) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True  # the webhook is a local server
    owner = django_user_model.objects.create_user(username="olivia", password=PASSWORD)
    workspace = do_create_workspace(principal=Principal(owner), slug="acme", display_name="Acme")
    destination = make_setup(owner, workspace).destination("actions-webhook")
    table = warehouse.table("customers")
    warehouse.run(f"CREATE TABLE {table} (customer_id text, plan text)")
    warehouse.run(f"INSERT INTO {table} VALUES ('c1', 'free'), ('c2', 'pro')")
    refused = watch_csp(page)
    base = live_server.url
    sign_in(page, base, "olivia")

    # Connections > Reverse ETL > Sources: the catalog's Postgres entry.
    page.goto(f"{base}/workspaces/acme/")
    page.get_by_role("link", name="Reverse ETL").click()
    page.get_by_role("link", name="Sources", exact=True).last.click()
    expect(page.locator('[data-warehouse="bigquery"]')).to_contain_text("not available yet")
    page.get_by_role("link", name="Add Postgres source").click()
    s = warehouse.settings()
    page.get_by_label("Display name").fill("Warehouse")
    page.get_by_label("Slug").fill("dwh")
    page.get_by_label("Host").fill(s.host)
    page.get_by_label("Port").fill(str(s.port))
    page.get_by_label("Database").fill(s.database)
    page.get_by_label("User", exact=True).fill(s.username)
    page.get_by_label("Password").fill(s.password or "unused")
    page.get_by_label("SSL mode").select_option(s.ssl_mode)
    page.get_by_role("button", name="Create source").click()
    expect(page).to_have_url(f"{base}/workspaces/acme/reverse-etl/sources/dwh/")

    page.get_by_role("button", name="Test connection").click()
    report = page.locator("#connection-report")
    expect(report).to_contain_text("Connection works.")
    for check in ("connect", "read", "bookkeeping"):
        expect(report.locator(f'[data-check="{check}"]')).to_contain_text("PASSED")
    expect(page.locator("#bookkeeping")).to_contain_text("in the warehouse")

    # A model: Preview shows the first rows before anything is saved.
    page.get_by_role("link", name="Add model").click()
    page.get_by_label("Display name").fill("Customers")
    page.get_by_label("Slug").fill("customers")
    page.get_by_label("SQL query").fill(f"SELECT customer_id, plan FROM {table}")
    page.get_by_label("Unique identifier column").fill("customer_id")
    page.get_by_role("button", name="Preview").click()
    rows = page.locator("#preview-rows tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("c1")
    expect(page.locator("#preview-identifier")).to_contain_text("identifier unique and non-null")
    expect(page.get_by_label("SQL query")).to_have_value(f"SELECT customer_id, plan FROM {table}")
    page.get_by_role("button", name="Create model").click()
    expect(page).to_have_url(f"{base}/workspaces/acme/reverse-etl/models/customers/")

    # A mapping: the destination, then its action, then the action's fields.
    page.get_by_role("link", name="Add mapping").click()
    page.get_by_label("Destination").select_option(destination.key_id)
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Action", exact=True).select_option("send")
    page.get_by_role("button", name="Choose action").click()
    page.get_by_label("URL", exact=True).fill(server.url + "/hook")
    page.get_by_role("button", name="Create mapping").click()
    expect(page.locator("#mapping-status")).to_have_text("Enabled")
    mapping = RetlMapping.objects.get()

    # Sync now: the run is queued; the worker's part is run here, and the open page,
    # which refreshes itself while the sync runs, shows it finished.
    page.get_by_role("link", name="Sync history").click()
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("#sync-status")).to_contain_text("In progress")
    sync = RetlSync.objects.get(mapping=mapping)
    sync_service.run_sync(sync.pk)
    expect(page.locator("#sync-status")).to_contain_text("Successful")
    expect(page.locator('[data-count="extracted"]')).to_have_text("2")
    expect(page.locator('[data-count="new"]')).to_have_text("2")
    assert len(server.requests) == 2

    page.get_by_role("link", name=mapping.display_name).click()
    page.get_by_role("link", name="Sync history").click()
    history = page.locator(f'#sync-history [data-sync="{sync.key_id}"]')
    expect(history).to_contain_text("Successful")
    expect(history).to_contain_text("2 / 0 / 0")
    page.get_by_role("link", name="Reverse ETL", exact=True).first.click()
    expect(page.locator(f'#sync-overview [data-mapping="{mapping.key_id}"]')).to_contain_text(
        "Successful"
    )
    assert refused == []
