"""Engage > Audiences and Computed Traits pages on real computed data: the lists
(size, status, mode, folder, search, folder filter), an overview (definition text,
run history, size history, members with links to the explorer, paging), Refresh,
enable/disable, delete with the key kept, clone, and what a reader may not do."""

from __future__ import annotations

import datetime as dt

import pytest

from engage import computation_selectors as selectors
from engage.models import (
    Computation,
    ComputationChange,
    ComputationKey,
    ComputationRun,
    ComputationStatus,
    RunStatus,
)
from switchyard.masking import mask_for
from tests.engage.computation_pages_support import BUYERS, Pages, make_pages
from tests.engage.compute_support import NOW
from workspace.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def pages() -> Pages:
    return make_pages()


def test_the_audience_list_shows_size_status_mode_folder_and_links(pages: Pages) -> None:
    page = pages.client().get(pages.url("audiences/")).content.decode()
    row = page[page.index('id="computation-recent_buyers"') :]
    row = row[: row.index("</tr>")]
    assert '<td class="text-end computation-size">3</td>' in row
    assert 'badge text-bg-success">Live<' in row
    assert "Real-time" in row and "Retention" in row
    assert f'href="{pages.url("audiences/recent_buyers/")}"' in row
    # the space's navigation links both lists
    assert f'href="{pages.url("audiences/")}"' in page
    assert f'href="{pages.url("computed-traits/")}"' in page
    # the trait is on the other list only
    assert 'id="computation-revenue"' not in page
    traits = pages.client().get(pages.url("computed-traits/")).content.decode()
    assert 'id="computation-revenue"' in traits and "recent_buyers" not in traits


def test_the_list_filters_by_folder_and_searches_by_name(pages: Pages) -> None:
    pages.create("Churn Risk", BUYERS)
    owner = pages.client()
    filed = owner.get(pages.url("audiences/"), {"folder": "Retention"}).content.decode()
    assert 'id="computation-recent_buyers"' in filed and "computation-churn_risk" not in filed
    unfiled = owner.get(pages.url("audiences/"), {"folder": "-"}).content.decode()
    assert "computation-recent_buyers" not in unfiled and 'id="computation-churn_risk"' in unfiled
    found = owner.get(pages.url("audiences/"), {"q": "churn"}).content.decode()
    assert "computation-recent_buyers" not in found and 'id="computation-churn_risk"' in found
    none = owner.get(pages.url("audiences/"), {"q": "nothing like it"}).content.decode()
    assert 'id="no-computations"' in none


def test_the_overview_shows_definition_runs_members_and_destinations(pages: Pages) -> None:
    page = pages.client().get(pages.url("audiences/recent_buyers/")).content.decode()
    assert 'id="definition-text"' in page and "Order Completed" in page
    run = ComputationRun.objects.filter(computation=pages.buyers).latest("pk")
    history = page[page.index('id="run-history"') :]
    assert f'id="run-{run.pk}"' in history and "Succeeded" in history
    members = page[page.index('id="members"') : page.index('id="destinations-heading"')]
    assert members.count('class="member-row"') == 3
    profile = pages.world.pid("u1")
    segment = pages.buyers.members.get(profile_id=profile).profile.segment_id
    assert f'href="{pages.url("profiles/" + segment + "/")}"' in members
    assert "<td>u1@example.com</td>" in members and "<td>u1</td>" in members
    assert "idle@example.com" not in members
    assert 'id="computation-destinations"' in page
    assert "chart-figure" in page


def test_a_trait_overview_shows_each_profiles_value(pages: Pages) -> None:
    page = pages.client().get(pages.url("computed-traits/revenue/")).content.decode()
    members = page[page.index('id="members"') :]
    assert members.count('class="member-row"') == 3
    assert '<td class="member-value">30</td>' in members
    assert 'id="definition-text"' in page


def test_members_are_paged_by_profile(pages: Pages) -> None:
    mask = mask_for(pages.acme.principal, pages.acme.workspace.pk)
    first = selectors.members_page(pages.buyers, mask, size=2)
    assert len(first.rows) == 2 and first.next_after is not None
    second = selectors.members_page(pages.buyers, mask, after=first.next_after, size=2)
    assert len(second.rows) == 1 and second.next_after is None
    seen = {r.user_id for r in first.rows + second.rows}
    assert seen == {"u1", "u2", "u3"}
    # The members URL answers the next page's rows.
    fragment = pages.client().get(
        pages.url("audiences/recent_buyers/members/"), {"after": first.next_after}
    )
    assert fragment.status_code == 200
    assert fragment.content.decode().count('class="member-row"') == 1


def test_size_history_works_back_from_the_changes() -> None:
    pages = make_pages(buyers=2)
    ComputationChange.objects.filter(computation=pages.buyers).update(
        time=NOW - dt.timedelta(days=1)
    )
    history = selectors.size_history(pages.buyers, days=3, now=NOW)
    assert [size for _day, size in history] == [0, 2, 2]


def test_refresh_queues_a_run_and_disable_enable_toggle(pages: Pages) -> None:
    owner = pages.client()
    before = ComputationRun.objects.filter(computation=pages.buyers).count()
    response = owner.post(pages.url("audiences/recent_buyers/refresh/"))
    assert response.status_code == 302
    runs = ComputationRun.objects.filter(computation=pages.buyers)
    assert runs.count() == before + 1 and runs.latest("pk").status == RunStatus.QUEUED
    owner.post(pages.url("audiences/recent_buyers/enabled/"), {"enabled": "false"})
    pages.buyers.refresh_from_db()
    assert (pages.buyers.enabled, pages.buyers.status) == (False, ComputationStatus.DISABLED)
    page = owner.get(pages.url("audiences/recent_buyers/")).content.decode()
    assert 'id="refresh-form"' not in page and ">Enable</button>" in page
    owner.post(pages.url("audiences/recent_buyers/enabled/"), {"enabled": "true"})
    pages.buyers.refresh_from_db()
    assert pages.buyers.enabled is True


def test_delete_needs_the_key_typed_and_keeps_the_key_used(pages: Pages) -> None:
    owner = pages.client()
    page = owner.get(pages.url("audiences/recent_buyers/")).content.decode()
    assert 'id="delete-warning"' in page and "can never be used again" in page
    owner.post(pages.url("audiences/recent_buyers/delete/"), {"confirm": "wrong"})
    assert Computation.objects.filter(pk=pages.buyers.pk).exists()
    response = owner.post(
        pages.url("audiences/recent_buyers/delete/"), {"confirm": "recent_buyers"}
    )
    assert response.status_code == 302 and response["Location"] == pages.url("audiences/")
    assert not Computation.objects.filter(pk=pages.buyers.pk).exists()
    assert ComputationKey.objects.filter(space=pages.space, key="recent_buyers").exists()
    assert AuditEntry.objects.filter(action="audience.deleted").count() == 1


def test_clone_into_the_same_space_and_another(pages: Pages) -> None:
    prod = pages.acme.space("prod")
    owner = pages.client()
    response = owner.post(
        pages.url("audiences/recent_buyers/clone/"),
        {"display_name": "Buyers Copy", "key": "", "space": "dev"},
    )
    assert response.status_code == 302
    copy = Computation.objects.get(space=pages.space, key="buyers_copy")
    assert copy.definition == pages.buyers.definition and copy.folder == "Retention"
    assert response["Location"] == pages.url("audiences/buyers_copy/")
    response = owner.post(
        pages.url("audiences/recent_buyers/clone/"),
        {"display_name": "Recent Buyers", "key": "", "space": "prod"},
    )
    assert response.status_code == 302
    other = Computation.objects.get(space=prod, key="recent_buyers")
    assert other.folder == "" and other.kind == "audience"
    # the same key again in dev is refused on the form, nothing created
    again = owner.post(
        pages.url("audiences/recent_buyers/clone/"),
        {"display_name": "Again", "key": "buyers_copy", "space": "dev"},
    )
    assert again.status_code == 400 and "never reused" in again.content.decode()
    assert Computation.objects.filter(space=pages.space).count() == 3


def test_a_reader_sees_the_pages_but_cannot_change_anything(pages: Pages) -> None:
    reader = pages.client(pages.acme.member("unify-and-engage-read-only"))
    page = reader.get(pages.url("audiences/recent_buyers/")).content.decode()
    assert 'id="members"' in page
    for form in ("refresh-form", "enabled-form", "delete-form", "clone-form", "export-form"):
        assert f'id="{form}"' not in page
    listing = reader.get(pages.url("audiences/")).content.decode()
    assert 'id="folder-create"' not in listing and 'name="keys"' not in listing
    for path, data in (
        ("audiences/recent_buyers/refresh/", {}),
        ("audiences/recent_buyers/enabled/", {"enabled": "false"}),
        ("audiences/recent_buyers/delete/", {"confirm": "recent_buyers"}),
        ("audiences/recent_buyers/exports/", {"format": "formatted"}),
        ("audiences/", {"action": "create-folder", "folder-name": "X"}),
    ):
        assert reader.post(pages.url(path), data).status_code == 403, path
    cloned = reader.post(
        pages.url("audiences/recent_buyers/clone/"),
        {"display_name": "Mine", "space": "dev"},
    )
    assert cloned.status_code == 400  # no space to build in: nothing to choose
    pages.buyers.refresh_from_db()
    assert pages.buyers.enabled and Computation.objects.filter(space=pages.space).count() == 2


def test_an_engage_user_may_refresh(pages: Pages) -> None:
    user = pages.client(pages.acme.member("unify-read-only-engage-user"))
    assert user.post(pages.url("audiences/recent_buyers/refresh/")).status_code == 302


def test_unknown_or_other_kind_keys_are_404(pages: Pages) -> None:
    owner = pages.client()
    assert owner.get(pages.url("audiences/nobody/")).status_code == 404
    assert owner.get(pages.url("audiences/revenue/")).status_code == 404
    outsider = pages.client(pages.acme.member())
    assert outsider.get(pages.url("audiences/recent_buyers/")).status_code == 404


def test_the_status_polls_while_a_run_is_pending_and_durations_show(pages: Pages) -> None:
    owner = pages.client()
    url = pages.url("audiences/recent_buyers/")
    page = owner.get(url).content.decode()
    assert 'data-status="LIVE"' in page and "?part=status" not in page
    assert page.count('class="small run-duration">') >= 1
    run = ComputationRun.objects.filter(computation=pages.buyers).latest("pk")
    assert run.finish_time is not None and run.start_time is not None
    duration = (run.finish_time - run.start_time).total_seconds()
    assert selectors.duration_text(duration) in page
    owner.post(pages.url("audiences/recent_buyers/refresh/"))
    page = owner.get(url).content.decode()
    assert "?part=status" in page and 'id="pending-run"' in page
    part = owner.get(url, {"part": "status"}, HTTP_HX_REQUEST="true").content.decode()
    assert part.startswith('<span id="computation-status"') and "run queued (manual)" in part
    assert selectors.duration_text(75) == "1 min 15 s"
    assert selectors.duration_text(7260) == "2 h 1 min"


def test_a_clone_into_a_space_missing_what_it_refers_to_is_refused(pages: Pages) -> None:
    pages.acme.space("prod")
    nested = {
        **BUYERS,
        "root": {"kind": "audience", "audience_key": "recent_buyers", "member": True},
    }
    repeat = pages.create("Repeat", nested)
    response = pages.client().post(
        pages.url("audiences/repeat/clone/"),
        {"display_name": "Repeat", "key": "", "space": "prod"},
    )
    assert response.status_code == 400
    assert "there is no audience &#x27;recent_buyers&#x27; in this space" in (
        response.content.decode()
    )
    assert not Computation.objects.filter(space__slug="prod").exists()
    assert repeat.space_id == pages.space.pk
