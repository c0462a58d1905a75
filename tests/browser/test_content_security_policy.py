"""The UI works under its Content-Security-Policy: walking pages that use htmx, the
data-confirm dialogs, the debugger's polling and the API reference, Chromium
refuses nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from connections.services.sources import do_create_source
from switchyard.access import Principal
from tests.browser.support import PASSWORD
from workspace.models import UserGroup
from workspace.services.workspaces import do_create_workspace

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# Each violation the page reports, whatever page it happens on (the init script runs
# before any of the page's own and is not itself subject to the policy).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__reportCsp(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
  window.__cspSeen = (window.__cspSeen || 0) + 1;
});
"""


class Watch:
    """CSP violations (reported by the page, and Chromium's "Refused to ..." console
    errors) and the confirm dialogs the page opened."""

    def __init__(self) -> None:
        self.violations: list[str] = []
        self.dialogs: list[str] = []
        self.accept = True

    def on_console(self, message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.violations.append(message.text)

    def on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        if self.accept:
            dialog.accept()
        else:
            dialog.dismiss()


@pytest.fixture
def watched(browser: Browser) -> Iterator[tuple[Page, Watch]]:
    watch = Watch()
    context = browser.new_context()
    context.set_default_timeout(15_000)
    context.expose_binding("__reportCsp", lambda _source, text: watch.violations.append(text))
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()
    page.on("console", watch.on_console)
    page.on("dialog", watch.on_dialog)
    try:
        yield page, watch
    finally:
        context.close()


def test_the_ui_runs_under_its_policy(
    live_server: Any, watched: tuple[Page, Watch], django_user_model: Any
) -> None:
    page, watch = watched
    owner = django_user_model.objects.create_user(username="olivia", password=PASSWORD)
    workspace = do_create_workspace(principal=Principal(owner), slug="acme", display_name="Acme")
    do_create_source(
        principal=Principal(owner), workspace=workspace, slug="web", display_name="Web"
    )
    base = live_server.url

    page.goto(f"{base}/login")
    # The watch sees a violation: an inline script the policy refuses.
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.ran = 1'; document.head.append(s); }"
    )
    page.wait_for_function("() => window.__cspSeen > 0")
    assert page.evaluate("() => window.ran") is None
    assert any("script-src" in v for v in watch.violations), watch.violations
    watch.violations.clear()

    page.get_by_label("Username").fill("olivia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/workspaces/acme/")

    # Bootstrap's dropdown (the workspace switcher).
    page.locator("#workspace-switcher").click()
    expect(page.get_by_role("link", name="All workspaces")).to_be_visible()

    # Labels: an htmx form, and htmx's own hx-confirm on delete.
    page.goto(f"{base}/workspaces/acme/settings/labels/")
    page.get_by_label("Key").fill("tier")
    page.get_by_label("Value").fill("gold")
    page.get_by_role("button", name="Create label").click()
    row = page.locator("tr", has_text="tier:gold")
    expect(row).to_be_visible()
    row.get_by_role("button", name="Delete").click()
    expect(row).to_have_count(0)
    assert watch.dialogs[-1] == "Delete label tier:gold?"

    # User groups: a plain form with data-confirm (app.js). "No" keeps the group.
    page.goto(f"{base}/workspaces/acme/settings/access/groups/")
    page.get_by_label("Name").fill("Night shift")
    page.get_by_role("button", name="Create group").click()
    group = page.locator("tr", has_text="Night shift")
    expect(group).to_be_visible()
    watch.accept = False
    group.get_by_role("button", name="Delete").click()
    assert watch.dialogs[-1] == "Delete the group Night shift? Its members stay in the workspace."
    page.reload()
    expect(group).to_be_visible()
    assert UserGroup.objects.filter(name="Night shift").exists()
    watch.accept = True
    group.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("No user groups yet.")).to_be_visible()
    assert len(watch.dialogs) == 3
    assert not UserGroup.objects.filter(name="Night shift").exists()

    # The debugger polls with htmx (debugger.js adds ?after=, and pauses).
    page.goto(f"{base}/workspaces/acme/sources/web/debugger/")
    with page.expect_request(lambda r: "/debugger/events/" in r.url and "after=0" in r.url):
        pass
    page.get_by_label("Pause").check()
    prevented = page.evaluate(
        """() => new Promise((resolve) => document.getElementById("events").addEventListener(
             "htmx:configRequest", (e) => setTimeout(() => resolve(e.defaultPrevented)),
             {once: true}))"""
    )
    assert prevented is True

    # The API reference (Swagger UI) renders.
    page.goto(f"{base}/v1beta/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Switchyard Config API")
    expect(page.locator(".opblock").first).to_be_visible()

    assert watch.violations == []
