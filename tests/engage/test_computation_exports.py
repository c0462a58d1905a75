"""CSV export of an audience's members or a trait's values (engage.md §5.6): the
limits (one at a time, one every five minutes), the Formatted and Unformatted
files built by the real task, progress, and who downloads."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.utils import timezone

from engage.models import ComputationExport, ExportStatus
from engage.services.computation_exports import do_request_export
from engage.tasks import export_computation
from switchyard.errors import FailedPrecondition, InvalidArgument
from tests.engage.computation_pages_support import Pages, make_pages

pytestmark = pytest.mark.django_db


@pytest.fixture
def pages() -> Pages:
    return make_pages()


def rows(export: ComputationExport) -> list[list[str]]:
    export.refresh_from_db()
    return list(csv.reader(io.StringIO(export.content)))


def test_a_formatted_export_has_a_column_per_id_and_trait(pages: Pages) -> None:
    owner = pages.client()
    response = owner.post(
        pages.url("audiences/recent_buyers/exports/"),
        {"format": "formatted", "identifiers": ["user_id", "email"], "traits": "email, revenue"},
    )
    assert response.status_code == 302
    export = ComputationExport.objects.get(computation=pages.buyers)
    assert export.status == ExportStatus.QUEUED
    assert export_computation.apply(args=[export.pk]).get() == {"export": export.pk, "rows": 3}
    table = rows(export)
    assert table[0] == ["segment_id", "user_id", "email", "email", "revenue"]
    body = sorted(table[1:], key=lambda r: r[1])
    assert [r[1:] for r in body] == [
        ["u1", "u1@example.com", "u1@example.com", "10"],
        ["u2", "u2@example.com", "u2@example.com", "20"],
        ["u3", "u3@example.com", "u3@example.com", "30"],
    ]
    export.refresh_from_db()
    assert (export.status, export.rows, export.processed) == (ExportStatus.READY, 3, 3)
    page = owner.get(pages.url("audiences/recent_buyers/")).content.decode()
    assert "Download CSV" in page
    download = owner.get(pages.url(f"audiences/recent_buyers/exports/{export.key_id}/download/"))
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert download.content.decode() == export.content


def test_an_unformatted_trait_export_holds_json(pages: Pages) -> None:
    export = do_request_export(
        principal=pages.acme.principal,
        computation=pages.revenue,
        format="unformatted",
        identifiers=["user_id"],
    )
    export_computation.apply(args=[export.pk])
    table = rows(export)
    assert table[0] == ["segment_id", "external_ids", "traits"]
    parsed = sorted(
        (json.loads(ids)["user_id"][0], json.loads(traits)) for _sid, ids, traits in table[1:]
    )
    assert parsed == [("u1", {"revenue": 10}), ("u2", {"revenue": 20}), ("u3", {"revenue": 30})]


def test_one_at_a_time_and_one_every_five_minutes(pages: Pages) -> None:
    now = timezone.now()
    first = do_request_export(
        principal=pages.acme.principal, computation=pages.buyers, format="formatted", now=now
    )
    with pytest.raises(FailedPrecondition, match="one export at a time"):
        do_request_export(
            principal=pages.acme.principal,
            computation=pages.buyers,
            format="formatted",
            now=now + dt.timedelta(minutes=6),
        )
    export_computation.apply(args=[first.pk])
    with pytest.raises(FailedPrecondition, match="one export every five minutes"):
        do_request_export(
            principal=pages.acme.principal,
            computation=pages.buyers,
            format="formatted",
            now=now + dt.timedelta(minutes=4),
        )
    # another audience is not limited by this one's export
    do_request_export(
        principal=pages.acme.principal, computation=pages.revenue, format="formatted", now=now
    )
    second = do_request_export(
        principal=pages.acme.principal,
        computation=pages.buyers,
        format="formatted",
        now=now + dt.timedelta(minutes=5, seconds=1),
    )
    assert second.status == ExportStatus.QUEUED
    assert ComputationExport.objects.filter(computation=pages.buyers).count() == 2


def test_the_limit_shows_on_the_page_and_nothing_is_queued(pages: Pages) -> None:
    owner = pages.client()
    url = pages.url("audiences/recent_buyers/exports/")
    assert owner.post(url, {"format": "formatted"}).status_code == 302
    refused = owner.post(url, {"format": "formatted"})
    assert refused.status_code == 400 and "one export at a time" in refused.content.decode()
    assert ComputationExport.objects.filter(computation=pages.buyers).count() == 1
    with pytest.raises(InvalidArgument):
        do_request_export(principal=pages.acme.principal, computation=pages.buyers, format="x")


def test_a_stale_export_no_longer_blocks_and_old_ones_are_deleted(pages: Pages) -> None:
    now = timezone.now()
    stuck = do_request_export(
        principal=pages.acme.principal,
        computation=pages.buyers,
        format="formatted",
        now=now - dt.timedelta(days=8),
    )
    fresh = do_request_export(
        principal=pages.acme.principal, computation=pages.buyers, format="formatted", now=now
    )
    assert not ComputationExport.objects.filter(pk=stuck.pk).exists()  # older than 7 days
    assert fresh.status == ExportStatus.QUEUED


def test_progress_polls_while_running_and_only_the_requester_downloads(pages: Pages) -> None:
    user = pages.acme.member("unify-read-only-engage-user")
    owner = pages.client()
    export = do_request_export(
        principal=pages.acme.principal, computation=pages.buyers, format="formatted"
    )
    fragment = owner.get(pages.url("audiences/recent_buyers/exports/")).content.decode()
    assert 'hx-trigger="every 2s"' in fragment and f'id="export-{export.key_id}"' in fragment
    export_computation.apply(args=[export.pk])
    fragment = owner.get(pages.url("audiences/recent_buyers/exports/")).content.decode()
    assert "every 2s" not in fragment and "Download CSV" in fragment
    other = pages.client(user)
    download = pages.url(f"audiences/recent_buyers/exports/{export.key_id}/download/")
    assert other.get(download).status_code == 403
    assert (
        "Download CSV"
        not in other.get(pages.url("audiences/recent_buyers/exports/")).content.decode()
    )
    outsider = pages.client(pages.acme.member())
    assert outsider.get(download).status_code == 404
    assert owner.get(download).status_code == 200


def test_erasing_a_user_deletes_the_exports_of_their_space(pages: Pages) -> None:
    from connections.dataplane import erasure

    export = do_request_export(
        principal=pages.acme.principal, computation=pages.buyers, format="formatted"
    )
    export_computation.apply(args=[export.pk])
    other = pages.acme.space("prod")
    kept = pages.create("Others", pages.buyers.definition, space=other)
    kept_export = do_request_export(
        principal=pages.acme.principal, computation=kept, format="formatted"
    )

    counts = erasure.erase_elsewhere(str(pages.acme.workspace.pk), ["u1"])

    assert counts["computation_exports"] == 1
    assert not ComputationExport.objects.filter(pk=export.pk).exists()
    assert ComputationExport.objects.filter(pk=kept_export.pk).exists()
