"""Profiles CSV upload: the file rules checked at upload (nothing stored when one
fails), the per-row check of the whole file in the worker's service (nothing
applied when a row is bad), progress, the 30-day history and who may upload."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from engage.models import CsvUpload, Profile, ProfileIdentifier, Space, UploadStatus
from engage.services import csv_upload
from engage.services.identity_settings import seed_defaults
from tests.engage.explorer_support import Setup, setup
from workspace.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def s(alice, make_user, make_workspace) -> Setup:
    made = setup(alice, make_user, make_workspace)
    seed_defaults(made.space)
    return made


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(s: Setup, content: str | bytes, name: str = "people.csv", user=None):
    data = content.encode() if isinstance(content, str) else content
    return client_of(user or s.owner).post(
        f"{s.base}/csv-uploads/", {"file": SimpleUploadedFile(name, data, "text/csv")}
    )


def refused(s: Setup, content: str | bytes, name: str = "people.csv") -> str:
    response = upload(s, content, name)
    assert response.status_code == 400
    assert not CsvUpload.objects.exists()
    return response.content.decode()


def test_a_good_file_is_stored_audited_and_shown_checking(s: Setup) -> None:
    response = upload(s, "user_id,email,plan\nu-1,a@example.com,gold\n")
    stored = CsvUpload.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"/csv-uploads/{stored.key_id}/")
    assert stored.status == UploadStatus.VALIDATING
    assert stored.columns == ["user_id", "email", "plan"]
    assert stored.created_by == s.owner
    entry = AuditEntry.objects.get(action="profiles_csv.uploaded")
    assert stored.key_id in entry.resource_name
    page = client_of(s.owner).get(response["Location"])
    assert 'hx-trigger="every 2s"' in page.content.decode()  # polled while it runs


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("people.txt", "user_id\nu-1\n", "Upload a .csv file."),
        ("people.csv", "", "The file is empty"),
        ("people.csv", "user_id,plan\n", "The file is empty"),
        ("people.csv", "user_id,plan,plan\nu-1,a,b\n", "appears more than once"),
        ("people.csv", "user_id, plan\nu-1,a\n", "starts or ends with a space"),
        ("people.csv", "user_id,my  plan\nu-1,a\n", "consecutive spaces"),
        ("people.csv", "user_id,plan$\nu-1,a\n", "not allowed"),
        ("people.csv", "user_id,\nu-1,a\n", "A column header is empty."),
        ("people.csv", "plan,tier\ngold,1\n", "needs an identifier column"),
        ("people.csv", "User_ID,plan\nu-1,gold\n", "needs an identifier column"),  # case-sensitive
    ],
)
def test_file_rules(s: Setup, name: str, content: str, says: str) -> None:
    assert says in refused(s, content, name)


def test_accented_headers_are_allowed(s: Setup) -> None:
    assert upload(s, "user_id,prénom.1,Straße-x\nu-1,a,b\n").status_code == 302


def test_at_most_299_columns(s: Setup) -> None:
    header = ["user_id"] + [f"c{n}" for n in range(299)]
    body = refused(s, ",".join(header) + "\n" + ",".join(["x"] * 300) + "\n")
    assert "Your CSV file is exceeding the limit of 299 columns." in body
    header.pop()
    assert upload(s, ",".join(header) + "\n" + ",".join(["x"] * 299) + "\n").status_code == 302


def test_not_utf8_is_refused(s: Setup) -> None:
    assert "not UTF-8" in refused(s, "user_id,plan\nu-1,caf\xe9\n".encode("latin-1"))


def test_larger_than_the_limit_is_refused(s: Setup, monkeypatch) -> None:
    monkeypatch.setattr(csv_upload, "MAX_BYTES", 20)
    assert "larger than 100 MB" in refused(s, "user_id,plan\nu-1,gold\nu-2,silver\n")


def test_bad_rows_are_listed_and_nothing_is_applied(s: Setup) -> None:
    upload(s, "user_id,email,plan\nu-1,,gold\n,,silver\nu-3,c@example.com\n\nu-5,,x\n")
    stored = CsvUpload.objects.get()
    csv_upload.process_upload(stored.pk)
    stored.refresh_from_db()
    assert stored.status == UploadStatus.INVALID
    assert stored.error_count == 2
    assert stored.errors == [
        {"row": 3, "message": "Row has no identifier value."},
        {"row": 4, "message": "Row has 2 values; the header has 3 columns."},
    ]
    assert stored.processed == 0 and stored.content == ""
    page = client_of(s.owner).get(f"{s.base}/csv-uploads/{stored.key_id}/").content.decode()
    assert "Row has no identifier value." in page and "every 2s" not in page


def test_identifier_values_longer_than_the_graph_holds_are_row_errors(s: Setup) -> None:
    upload(s, f"user_id,plan\nu-1,gold\n{'x' * 1025},silver\n")
    stored = CsvUpload.objects.get()
    csv_upload.process_upload(stored.pk)
    stored.refresh_from_db()
    assert stored.status == UploadStatus.INVALID
    assert stored.errors == [
        {"row": 3, "message": "An identifier value is longer than 1,024 characters."}
    ]


def test_too_many_rows(s: Setup, monkeypatch) -> None:
    monkeypatch.setattr(csv_upload, "MAX_ROWS", 2)
    upload(s, "user_id\nu-1\nu-2\nu-3\n")
    stored = CsvUpload.objects.get()
    csv_upload.process_upload(stored.pk)
    stored.refresh_from_db()
    assert stored.status == UploadStatus.INVALID
    assert stored.errors == [{"row": 4, "message": "Too many rows. You can upload up to 2 rows."}]


def test_only_the_first_errors_are_kept(s: Setup) -> None:
    upload(s, "user_id,plan\n" + ",x\n" * 150)
    stored = CsvUpload.objects.get()
    csv_upload.process_upload(stored.pk)
    stored.refresh_from_db()
    assert stored.error_count == 150 and len(stored.errors) == csv_upload.MAX_ERRORS_KEPT


def test_a_row_becomes_an_identify_call() -> None:
    message = csv_upload.identify_of(
        ["user_id", "email", "anonymous_id", "plan", "empty"],
        {"user_id", "email", "anonymous_id"},
        ["u-1", " a@example.com ", "anon-1", "gold", ""],
        message_id="csv_x-1",
        now="2026-01-01T00:00:00Z",
    )
    assert message["type"] == "identify" and message["messageId"] == "csv_x-1"
    assert message["userId"] == "u-1" and message["anonymousId"] == "anon-1"
    assert message["traits"] == {"email": "a@example.com", "plan": "gold"}
    assert {e["type"]: e["id"] for e in message["context"]["externalIds"]} == {
        "user_id": "u-1",
        "email": "a@example.com",
        "anonymous_id": "anon-1",
    }


def test_template_names_the_identifier_columns(s: Setup) -> None:
    response = client_of(s.reader).get(f"{s.base}/csv-uploads/template.csv")
    header = response.content.decode().splitlines()[0].split(",")
    assert header[:2] == ["user_id", "email"]
    assert "anonymous_id" in header


def test_history_covers_30_days(s: Setup) -> None:
    upload(s, "user_id\nu-1\n", name="recent.csv")
    upload(s, "user_id\nu-1\n", name="ancient-zq.csv")
    CsvUpload.objects.filter(file_name="ancient-zq.csv").update(
        create_time=CsvUpload.objects.get(file_name="recent.csv").create_time
        - dt.timedelta(days=31)
    )
    page = client_of(s.reader).get(f"{s.base}/csv-uploads/").content.decode()
    assert "recent.csv" in page and "ancient-zq.csv" not in page


def test_readers_see_the_history_without_the_form(s: Setup) -> None:
    reader = client_of(s.reader).get(f"{s.base}/csv-uploads/").content.decode()
    assert 'id="csv-form"' not in reader and 'id="csv-read-only"' in reader
    owner = client_of(s.owner).get(f"{s.base}/csv-uploads/").content.decode()
    assert 'id="csv-form"' in owner and 'id="csv-read-only"' not in owner


def test_readers_and_engage_users_may_not_upload(s: Setup, make_user) -> None:
    response = upload(s, "user_id\nu-1\n", user=s.reader)
    assert response.status_code == 403
    assert not CsvUpload.objects.exists()
    engage_user = make_user("engager")
    from switchyard.access import Principal
    from workspace.models import Membership
    from workspace.services.grants import do_create_grant

    Membership.objects.create(workspace=s.workspace, user=engage_user)
    do_create_grant(
        principal=Principal(s.owner),
        workspace=s.workspace,
        grantee=engage_user,
        role="unify-read-only-engage-user",
        scope="all",
    )
    assert upload(s, "user_id\nu-1\n", user=engage_user).status_code == 403
    admin = make_user("admin")
    Membership.objects.create(workspace=s.workspace, user=admin)
    do_create_grant(
        principal=Principal(s.owner),
        workspace=s.workspace,
        grantee=admin,
        role="unify-and-engage-admin",
        scope="all",
    )
    assert upload(s, "user_id\nu-1\n", user=admin).status_code == 302


def test_a_good_file_becomes_profiles_through_identity_resolution(s: Setup) -> None:
    upload(s, "user_id,email,plan\nu-1,a@example.com,gold\nu-2,,silver\n")
    stored = CsvUpload.objects.get()
    csv_upload.process_upload(stored.pk)
    stored.refresh_from_db()
    assert stored.status == UploadStatus.SUCCEEDED
    assert (stored.rows, stored.processed, stored.content) == (2, 2, "")
    first = ProfileIdentifier.objects.get(space=s.space, type="user_id", value="u-1").profile
    assert first.traits == {"email": "a@example.com", "plan": "gold"}
    assert ProfileIdentifier.objects.get(type="email", value="a@example.com").profile == first
    second = ProfileIdentifier.objects.get(space=s.space, type="user_id", value="u-2").profile
    assert second.traits == {"plan": "silver"}


def test_rows_of_one_person_merge_into_one_profile_in_file_order(s: Setup) -> None:
    upload(s, "user_id,email,plan\nu-1,,gold\nu-1,a@example.com,platinum\n")
    csv_upload.process_upload(CsvUpload.objects.get().pk)
    profile = ProfileIdentifier.objects.get(type="email", value="a@example.com").profile
    assert profile.traits["plan"] == "platinum"
    assert ProfileIdentifier.objects.get(type="user_id", value="u-1").profile == profile


def test_one_bad_row_and_no_good_row_is_applied(s: Setup) -> None:
    upload(s, "user_id,plan\nu-1,gold\n,silver\n")
    csv_upload.process_upload(CsvUpload.objects.get().pk)
    assert CsvUpload.objects.get().status == UploadStatus.INVALID
    assert not ProfileIdentifier.objects.filter(space=s.space).exists()
    assert not Profile.objects.filter(space=s.space).exists()


def test_progress_is_saved_per_chunk_and_a_rerun_resumes(s: Setup, monkeypatch) -> None:
    monkeypatch.setattr(csv_upload, "CHUNK", 2)
    upload(s, "user_id\nu-1\nu-2\nu-3\n")
    stored = CsvUpload.objects.get()
    # As a worker that died after the first chunk leaves it.
    CsvUpload.objects.filter(pk=stored.pk).update(
        status=UploadStatus.PROCESSING, rows=3, processed=2
    )
    csv_upload.process_upload(stored.pk)
    stored.refresh_from_db()
    assert stored.status == UploadStatus.SUCCEEDED and stored.processed == 3
    assert list(
        ProfileIdentifier.objects.filter(space=s.space).values_list("value", flat=True)
    ) == ["u-3"]


def test_a_run_past_its_budget_queues_the_rest(s: Setup, monkeypatch) -> None:
    monkeypatch.setattr(csv_upload, "CHUNK", 2)
    upload(s, "user_id\nu-1\nu-2\nu-3\n")
    stored = CsvUpload.objects.get()
    assert csv_upload.process_upload(stored.pk, budget=0) == {"continued": 2}
    stored.refresh_from_db()
    assert (stored.status, stored.rows, stored.processed) == (UploadStatus.PROCESSING, 3, 2)
    assert csv_upload.process_upload(stored.pk, budget=0) == {"applied": 3}
    stored.refresh_from_db()
    assert (stored.status, stored.processed) == (UploadStatus.SUCCEEDED, 3)
    applied = ProfileIdentifier.objects.filter(space=s.space, type="user_id")
    assert sorted(applied.values_list("value", flat=True)) == ["u-1", "u-2", "u-3"]


def test_a_space_pending_deletion_shows_its_history_but_takes_no_upload(s: Setup) -> None:
    Space.objects.filter(pk=s.space.pk).update(delete_time=timezone.now())
    assert client_of(s.owner).get(f"{s.base}/csv-uploads/").status_code == 200
    assert "cancel the deletion first" in refused(s, "user_id\nu-1\n")
