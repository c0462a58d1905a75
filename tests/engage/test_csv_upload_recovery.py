"""A CSV upload whose processing fails on a non-transient error ends FAILED with
the reason (page and Update History), keeping the chunks applied before it; one
whose task message was lost or whose worker died is queued again by the feed
sweep, and FAILED, saying so, after MAX_RESTARTS restarts without progress."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from engage import task_names, tasks
from engage.models import CsvUpload, ProfileIdentifier, UploadStatus
from engage.services import csv_upload, resolution
from engage.services.csv_upload import MAX_RESTARTS, STALLED_AFTER
from engage.services.identity_settings import seed_defaults
from switchyard.access import Principal
from tests.engage.broker_support import queued_tasks
from tests.engage.explorer_support import Setup, setup

pytestmark = pytest.mark.django_db

FIVE_ROWS = "user_id,plan\nu-1,a\nu-2,b\nu-3,c\nu-4,d\nu-5,e\n"


@pytest.fixture
def s(alice, make_user, make_workspace, monkeypatch) -> Setup:
    made = setup(alice, make_user, make_workspace)
    seed_defaults(made.space)
    monkeypatch.setattr(csv_upload, "CHUNK", 2)
    return made


def stored(s: Setup, content: str = FIVE_ROWS) -> CsvUpload:
    return csv_upload.do_upload_profiles_csv(
        principal=Principal(s.owner), space=s.space, file_name="people.csv", data=content.encode()
    )


def fail_on_call(monkeypatch, number: int, error: Exception) -> None:
    """identity resolution raises ``error`` on its ``number``-th call, after writing."""
    real = resolution.resolve_events
    calls = []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        outcome = real(*args, **kwargs)
        if len(calls) == number:
            raise error
        return outcome

    monkeypatch.setattr(resolution, "resolve_events", flaky)


def applied(s: Setup) -> list[str]:
    found = ProfileIdentifier.objects.filter(space=s.space, type="user_id")
    return sorted(found.values_list("value", flat=True))


def stall(upload: CsvUpload) -> None:
    CsvUpload.objects.filter(pk=upload.pk).update(
        progress_time=timezone.now() - STALLED_AFTER - dt.timedelta(seconds=1)
    )


def pages(s: Setup, upload: CsvUpload) -> tuple[str, str]:
    client = Client()
    client.force_login(s.owner)
    one = client.get(f"{s.base}/csv-uploads/{upload.key_id}/").content.decode()
    history = client.get(f"{s.base}/csv-uploads/").content.decode()
    return one, history


def test_a_non_transient_error_fails_the_upload_with_its_reason(s: Setup, monkeypatch) -> None:
    upload = stored(s)
    fail_on_call(monkeypatch, 2, ValueError("a bug, quoting u-3"))

    result = csv_upload.process_upload(upload.pk)

    upload.refresh_from_db()
    assert result == {"failed": upload.failure}
    assert (upload.status, upload.rows, upload.processed) == (UploadStatus.FAILED, 5, 2)
    assert upload.content == "" and upload.finish_time is not None
    assert "rows 3 to 4 failed (ValueError)" in upload.failure
    assert "rows 1 to 2 were applied" in upload.failure
    assert "u-3" not in upload.failure  # the error's text can quote a row
    assert applied(s) == ["u-1", "u-2"]  # the failing chunk rolled back whole
    one, history = pages(s, upload)
    assert f'<p class="text-danger-emphasis" id="csv-failure">{upload.failure}</p>' in one
    assert f'<div class="small text-danger-emphasis csv-failure">{upload.failure}</div>' in history
    assert csv_upload.process_upload(upload.pk) == {"skipped": True}  # FAILED is final


def test_a_failure_while_checking_the_rows_applies_nothing(s: Setup, monkeypatch) -> None:
    upload = stored(s)

    def broken(*args: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(csv_upload, "_row_errors", broken)
    csv_upload.process_upload(upload.pk)

    upload.refresh_from_db()
    assert upload.status == UploadStatus.FAILED
    assert upload.failure == "Checking the file's rows failed (RuntimeError); nothing was applied."
    assert applied(s) == []


def test_a_transient_error_leaves_it_processing_for_the_sweep(s: Setup, monkeypatch) -> None:
    upload = stored(s)
    fail_on_call(monkeypatch, 2, OperationalError("deadlock detected"))

    with pytest.raises(OperationalError):
        csv_upload.process_upload(upload.pk)

    upload.refresh_from_db()
    assert (upload.status, upload.processed, upload.failure) == (UploadStatus.PROCESSING, 2, "")


def test_the_sweep_queues_a_stalled_upload_again_and_it_resumes(s: Setup) -> None:
    upload = stored(s)
    assert csv_upload.process_upload(upload.pk, budget=0) == {"continued": 2}
    waiting = stored(s, "user_id\nu-9\n")  # queued a moment ago: not stalled
    stall(upload)  # the message carrying the rest was lost

    with queued_tasks() as queued:
        assert csv_upload.requeue_stalled() == 1
        assert csv_upload.requeue_stalled() == 0  # restarted just now

    assert queued == [(task_names.PROCESS_CSV_UPLOAD, [upload.pk])]
    upload.refresh_from_db()
    assert upload.restarts == 1
    assert csv_upload.process_upload(upload.pk) == {"applied": 5}
    upload.refresh_from_db()
    assert (upload.status, upload.processed, upload.restarts) == (UploadStatus.SUCCEEDED, 5, 0)
    assert applied(s) == ["u-1", "u-2", "u-3", "u-4", "u-5"]
    assert CsvUpload.objects.get(pk=waiting.pk).restarts == 0


def test_an_upload_whose_first_message_was_lost_is_checked_when_restarted(s: Setup) -> None:
    upload = stored(s)
    CsvUpload.objects.filter(pk=upload.pk).update(
        create_time=timezone.now() - STALLED_AFTER - dt.timedelta(seconds=1)
    )
    with queued_tasks() as queued:
        assert csv_upload.requeue_stalled() == 1
    assert queued == [(task_names.PROCESS_CSV_UPLOAD, [upload.pk])]
    csv_upload.process_upload(upload.pk)
    assert CsvUpload.objects.get(pk=upload.pk).status == UploadStatus.SUCCEEDED


def test_it_gives_up_after_bounded_restarts_and_says_so(s: Setup) -> None:
    upload = stored(s)
    csv_upload.process_upload(upload.pk, budget=0)
    with queued_tasks() as queued:
        for _ in range(MAX_RESTARTS):
            stall(upload)
            assert csv_upload.requeue_stalled() == 1
        stall(upload)
        assert csv_upload.requeue_stalled() == 0

    assert len(queued) == MAX_RESTARTS
    upload.refresh_from_db()
    assert upload.status == UploadStatus.FAILED and upload.content == ""
    assert f"restarted {MAX_RESTARTS} times" in upload.failure
    assert "2 of 5 rows were applied" in upload.failure
    _, history = pages(s, upload)
    assert f'<div class="small text-danger-emphasis csv-failure">{upload.failure}</div>' in history
    assert csv_upload.process_upload(upload.pk) == {"skipped": True}


def test_a_run_behind_another_stops_without_applying_twice(s: Setup) -> None:
    upload = stored(s)
    csv_upload.process_upload(upload.pk, budget=0)
    # A restarted run and the slow one it was restarted beside both read processed=2;
    # the first to apply rows 3-4 wins, the other finds them applied.
    behind = CsvUpload.objects.select_related("space").get(pk=upload.pk)
    assert csv_upload.process_upload(upload.pk, budget=0) == {"continued": 4}

    with pytest.raises(csv_upload._Superseded):
        csv_upload._process(behind, started=0.0, budget=1e9)

    assert CsvUpload.objects.get(pk=upload.pk).processed == 4


def test_a_file_with_nul_characters_is_refused_at_upload(s: Setup) -> None:
    client = Client()
    client.force_login(s.owner)
    response = client.post(
        f"{s.base}/csv-uploads/",
        {"file": SimpleUploadedFile("p.csv", b"user_id,plan\nu-1,a\x00b\n", "text/csv")},
    )
    assert response.status_code == 400
    assert "NUL characters" in response.content.decode()
    assert not CsvUpload.objects.exists()


def test_the_feed_sweep_task_restarts_stalled_uploads_too(s: Setup) -> None:
    upload = stored(s)
    stall(upload)
    with queued_tasks() as queued:
        assert tasks.sweep_feed() == 1
    assert queued == [(task_names.PROCESS_CSV_UPLOAD, [upload.pk])]
