"""Folders of audiences (engage.md §5.7) through the pages and the services: a name
unique per space and kind, a description; renaming refiles the audiences;
disbanding keeps them; moving in bulk; the Config API's folder field creates one."""

from __future__ import annotations

import pytest

from engage.models import Computation, ComputationFolder
from engage.services.computation_folders import (
    do_create_folder,
    do_disband_folder,
    do_move_to_folder,
    do_update_folder,
)
from switchyard.access import Principal
from switchyard.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from tests.engage.computation_pages_support import BUYERS, Pages, make_pages
from workspace.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def pages() -> Pages:
    return make_pages(buyers=1)


def folder(pages: Pages, name: str, kind: str = "audience") -> ComputationFolder:
    return ComputationFolder.objects.get(space=pages.space, kind=kind, name=name)


def test_filing_under_a_new_name_creates_the_folder(pages: Pages) -> None:
    # make_pages filed Recent Buyers under "Retention" through do_create_computation
    assert folder(pages, "Retention").description == ""
    client = pages.acme.client()
    response = client.patch(
        f"/v1beta/workspaces/acme/spaces/dev/audiences/{pages.buyers.key}",
        {"audience": {"folder": "Winback"}, "update_mask": {"paths": ["audience.folder"]}},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["folder"] == "Winback"
    assert folder(pages, "Winback").kind == "audience"


def test_create_from_the_list_page_with_a_unique_name(pages: Pages) -> None:
    owner = pages.client()
    data = {"action": "create-folder", "folder-name": "Q3", "folder-description": "Campaigns"}
    assert owner.post(pages.url("audiences/"), data).status_code == 302
    created = folder(pages, "Q3")
    assert created.description == "Campaigns"
    page = owner.get(pages.url("audiences/")).content.decode()
    assert f'id="folder-{created.pk}"' in page and "Campaigns" in page
    again = owner.post(pages.url("audiences/"), data)
    assert again.status_code == 400 and "already a folder named" in again.content.decode()
    assert ComputationFolder.objects.filter(space=pages.space, name="Q3").count() == 1
    # the same name is free for computed traits, and in another space
    do_create_folder(principal=pages.acme.principal, space=pages.space, kind="trait", name="Q3")
    prod = pages.acme.space("prod")
    do_create_folder(principal=pages.acme.principal, space=prod, kind="audience", name="Q3")
    assert AuditEntry.objects.filter(action="computation_folder.created").count() == 3


def test_renaming_refiles_its_audiences(pages: Pages) -> None:
    retention = folder(pages, "Retention")
    owner = pages.client()
    url = pages.url(f"audiences/folders/{retention.pk}/")
    assert 'id="folder-edit"' in owner.get(url).content.decode()
    response = owner.post(url, {"name": "Loyalty", "description": "Keep them"})
    assert response.status_code == 302
    pages.buyers.refresh_from_db()
    assert pages.buyers.folder == "Loyalty"
    retention.refresh_from_db()
    assert (retention.name, retention.description) == ("Loyalty", "Keep them")
    do_create_folder(principal=pages.acme.principal, space=pages.space, kind="audience", name="X")
    with pytest.raises(AlreadyExists):
        do_update_folder(principal=pages.acme.principal, folder=retention, changes={"name": "X"})
    pages.buyers.refresh_from_db()
    assert pages.buyers.folder == "Loyalty"


def test_disbanding_keeps_the_audiences(pages: Pages) -> None:
    retention = folder(pages, "Retention")
    owner = pages.client()
    response = owner.post(pages.url(f"audiences/folders/{retention.pk}/"), {"action": "disband"})
    assert response.status_code == 302
    assert not ComputationFolder.objects.filter(pk=retention.pk).exists()
    pages.buyers.refresh_from_db()
    assert pages.buyers.folder == ""
    assert Computation.objects.filter(pk=pages.buyers.pk).exists()
    entry = AuditEntry.objects.get(action="computation_folder.disbanded")
    assert entry.before == {"name": "Retention", "description": "", "members": 1}


def test_moving_in_bulk_all_or_nothing(pages: Pages) -> None:
    churn = pages.create("Churn", BUYERS)
    vip = pages.create("Vip", BUYERS)
    owner = pages.client()
    do_create_folder(principal=pages.acme.principal, space=pages.space, kind="audience", name="Q4")
    response = owner.post(
        pages.url("audiences/"), {"action": "move", "folder": "Q4", "keys": ["churn", "vip"]}
    )
    assert response.status_code == 302
    assert set(Computation.objects.filter(folder="Q4").values_list("key", flat=True)) == {
        "churn",
        "vip",
    }
    with pytest.raises(InvalidArgument):  # a key not in the space: nothing moves
        do_move_to_folder(
            principal=pages.acme.principal,
            space=pages.space,
            kind="audience",
            keys=["churn", "revenue"],
            folder="Retention",
        )
    with pytest.raises(NotFound):
        do_move_to_folder(
            principal=pages.acme.principal,
            space=pages.space,
            kind="audience",
            keys=["churn"],
            folder="Nowhere",
        )
    churn.refresh_from_db()
    vip.refresh_from_db()
    assert churn.folder == vip.folder == "Q4"
    moved = do_move_to_folder(
        principal=pages.acme.principal, space=pages.space, kind="audience", keys=["vip"], folder=""
    )
    vip.refresh_from_db()
    assert moved == 1 and vip.folder == ""


def test_a_reader_cannot_touch_folders(pages: Pages) -> None:
    user = pages.acme.member("unify-and-engage-read-only")
    retention = folder(pages, "Retention")
    reader = pages.client(user)
    url = pages.url(f"audiences/folders/{retention.pk}/")
    page = reader.get(url).content.decode()
    assert 'id="folder-members"' in page and 'id="folder-edit"' not in page
    assert reader.post(url, {"action": "disband"}).status_code == 403
    assert reader.post(url, {"name": "Mine"}).status_code == 403
    move = {"action": "move", "folder": "-", "keys": ["recent_buyers"]}
    assert reader.post(pages.url("audiences/"), move).status_code == 403
    with pytest.raises(PermissionDenied):
        do_disband_folder(principal=Principal(user), folder=retention)
    retention.refresh_from_db()
    pages.buyers.refresh_from_db()
    assert (retention.name, pages.buyers.folder) == ("Retention", "Retention")
