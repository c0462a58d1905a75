"""The Profile API's errors: Segment's ``{"error": {"code", "message"}}`` with 400,
401, 404, 405 and 429 (past 100 requests per second per space, Retry-After); auth
by a space token (missing, wrong, revoked, another space's, a space being deleted)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from engage.models import Profile, SpaceToken
from engage.services.tokens import do_revoke_space_token
from switchyard.access import Principal
from tests.engage.profile_api_support import Opened, basic, get, make_profile, open_space, path

pytestmark = pytest.mark.django_db

LIMIT = 3


@pytest.fixture
def opened(alice: User, make_workspace: Any) -> Opened:
    return open_space(alice, make_workspace(alice, "acme"))


@pytest.fixture
def bob_profile(opened: Opened) -> Profile:
    return make_profile(opened.space, [("user_id", "u1234")], traits={"first_name": "Bob"})


@pytest.fixture
def no_rate_limit(settings: Any) -> None:
    settings.SWITCHYARD_PROFILE_API_RATE_LIMIT = 0


def error(answer: Any) -> tuple[int, str]:
    body = answer.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert answer["Request-Id"]
    return answer.status_code, body["error"]["code"]


@pytest.mark.usefixtures("no_rate_limit", "bob_profile")
class TestAuth:
    def test_missing_token(self, client: Client, opened: Opened) -> None:
        answer = get(client, path(opened.space, "user_id:u1234", "traits"), None)
        assert error(answer) == (401, "authentication_error")
        assert "HTTP Basic username" in answer.json()["error"]["message"]

    def test_empty_username_or_other_scheme(self, client: Client, opened: Opened) -> None:
        url = path(opened.space, "user_id:u1234", "traits")
        for header in (basic(""), f"Bearer {opened.token}", "Basic !!!"):
            answer = client.get(url, HTTP_AUTHORIZATION=header)
            assert error(answer) == (401, "authentication_error")

    def test_wrong_token(self, client: Client, opened: Opened) -> None:
        answer = get(client, path(opened.space, "user_id:u1234", "traits"), opened.token + "x")
        assert error(answer) == (401, "authentication_error")
        assert answer.json()["error"]["message"] == "Invalid access token (unknown or revoked)."

    def test_revoked_token(self, client: Client, opened: Opened, alice: User) -> None:
        url = path(opened.space, "user_id:u1234", "traits")
        assert get(client, url, opened.token).status_code == 200
        token = SpaceToken.objects.get(space=opened.space)
        do_revoke_space_token(principal=Principal(alice), token=token)
        assert error(get(client, url, opened.token)) == (401, "authentication_error")

    def test_a_token_reads_only_its_own_space(
        self, client: Client, opened: Opened, alice: User, make_workspace: Any
    ) -> None:
        other = open_space(alice, make_workspace(alice, "initech"), slug="dev")
        make_profile(other.space, [("user_id", "u1234")], traits={"first_name": "Other"})
        # The other space's token on this space's URL, and on a space that does not
        # exist: the same 404, so a token learns nothing of spaces beyond its own.
        for space_key in (opened.space.key_id, "spa_doesnotexist"):
            answer = get(client, path(space_key, "user_id:u1234", "traits"), other.token)
            assert error(answer) == (404, "not_found")
            assert answer.json()["error"]["message"] == "Space was not found."
        mine = get(client, path(other.space, "user_id:u1234", "traits"), other.token)
        assert mine.json()["traits"] == {"first_name": "Other"}

    def test_a_space_pending_deletion_answers_until_it_is_deleted(
        self, client: Client, opened: Opened
    ) -> None:
        # As its explorer and settings do: the deletion can still be cancelled.
        type(opened.space).objects.filter(pk=opened.space.pk).update(delete_time=timezone.now())
        url = path(opened.space, "user_id:u1234", "traits")
        assert get(client, url, opened.token).status_code == 200
        type(opened.space).objects.filter(pk=opened.space.pk).delete()
        assert error(get(client, url, opened.token)) == (401, "authentication_error")

    def test_a_read_marks_the_token_used(self, client: Client, opened: Opened) -> None:
        token = SpaceToken.objects.get(space=opened.space)
        assert token.last_used is None
        get(client, path(opened.space, "user_id:u1234", "traits"), opened.token)
        token.refresh_from_db()
        assert token.last_used is not None

    def test_the_token_is_checked_before_the_route(self, client: Client, opened: Opened) -> None:
        assert error(get(client, "/v1/spaces/x/nothing", None)) == (401, "authentication_error")


@pytest.mark.usefixtures("no_rate_limit", "bob_profile")
class TestRequestErrors:
    def test_collection_with_invalid_characters(self, client: Client, opened: Opened) -> None:
        answer = get(client, path(opened.space, "user_id:u1234", "traits", "us!ers"), opened.token)
        assert answer.status_code == 400
        assert answer.json() == {
            "error": {
                "code": "validation_error",
                "message": "The parameter `collection` has invalid character(s) `!`",
            }
        }

    def test_unknown_collection(self, client: Client, opened: Opened) -> None:
        answer = get(client, path(opened.space, "user_id:u1234", "traits", "people"), opened.token)
        assert error(answer) == (400, "validation_error")

    @pytest.mark.parametrize(
        "identifier", ["u1234", ":u1234", "user_id:", "bad type!:u1234", "user_id:" + "x" * 1025]
    )
    def test_malformed_identifier(self, client: Client, opened: Opened, identifier: str) -> None:
        answer = get(client, path(opened.space, identifier, "traits"), opened.token)
        assert error(answer) == (400, "validation_error")

    @pytest.mark.parametrize(
        "url",
        [
            "/v1/spaces/{space}/collections/users/profiles/user_id:u1234/nothing",
            "/v1/spaces/{space}/collections/users/profiles/user_id:u1234",
            "/v1/spaces/{space}/people/users/profiles/user_id:u1234/traits",
            "/v1/spaces/{space}",
        ],
    )
    def test_unknown_route(self, client: Client, opened: Opened, url: str) -> None:
        answer = get(client, url.format(space=opened.space.key_id), opened.token)
        assert error(answer) == (404, "not_found")

    @pytest.mark.parametrize(
        ("resource", "query", "parameter"),
        [
            ("traits", {"verbose": "yes"}, "verbose"),
            ("events", {"sort": "up"}, "sort"),
            ("events", {"start": "yesterday"}, "start"),
            ("events", {"start": "2024-05-02T00:00:00Z", "end": "2024-05-01T00:00:00Z"}, "start"),
            ("events", {"next": "not-a-cursor"}, "next"),
            ("external_ids", {"next": "lnk_1"}, "next"),
            ("links", {"limit": "101"}, "limit"),
        ],
    )
    def test_bad_parameters(
        self, client: Client, opened: Opened, resource: str, query: dict[str, str], parameter: str
    ) -> None:
        answer = get(client, path(opened.space, "user_id:u1234", resource), opened.token, **query)
        assert error(answer) == (400, "validation_error")
        assert answer.json()["error"]["message"].startswith(f"The parameter `{parameter}`")

    def test_only_get(self, client: Client, opened: Opened) -> None:
        url = path(opened.space, "user_id:u1234", "traits")
        answer = client.post(url, HTTP_AUTHORIZATION=basic(opened.token))
        assert error(answer) == (405, "invalid_request_error")
        assert answer["Allow"] == "GET, HEAD"


def within_one_window(send: Callable[[], list[Any]]) -> list[Any]:
    """Run ``send`` until all of it happened within one clock second (the limiter's
    window), so that a second boundary cannot split the requests."""
    for _ in range(10):
        time.sleep(1.0 - time.time() % 1.0 + 0.005)
        started = int(time.time())
        answers = send()
        if int(time.time()) == started:
            return answers
    raise AssertionError("could not send within one clock second")


class TestRateLimit:
    @pytest.fixture(autouse=True)
    def low_limit(self, settings: Any) -> None:
        settings.SWITCHYARD_PROFILE_API_RATE_LIMIT = LIMIT

    def test_past_the_limit_is_429_with_retry_after(
        self, client: Client, opened: Opened, bob_profile: Profile
    ) -> None:
        url = path(opened.space, "user_id:u1234", "traits")
        answers = within_one_window(
            lambda: [get(client, url, opened.token) for _ in range(LIMIT + 2)]
        )
        assert [a.status_code for a in answers] == [200] * LIMIT + [429, 429]
        refused = answers[LIMIT]
        assert error(refused) == (429, "rate_limit_error")
        assert (
            f"at most {LIMIT} requests per second per space" in refused.json()["error"]["message"]
        )
        assert int(refused["Retry-After"]) >= 1
        assert refused["X-RateLimit-Limit"] == str(LIMIT)

    def test_each_space_has_its_own_limit(
        self,
        client: Client,
        opened: Opened,
        bob_profile: Profile,
        alice: User,
        make_workspace: Any,
    ) -> None:
        other = open_space(alice, make_workspace(alice, "initech"), slug="dev")
        make_profile(other.space, [("user_id", "u1234")])
        mine = path(opened.space, "user_id:u1234", "traits")
        theirs = path(other.space, "user_id:u1234", "traits")

        def send() -> list[Any]:
            spent = [get(client, mine, opened.token) for _ in range(LIMIT + 1)]
            return [*spent, get(client, theirs, other.token)]

        answers = within_one_window(send)
        assert [a.status_code for a in answers] == [200] * LIMIT + [429, 200]

    def test_unauthenticated_requests_do_not_spend_the_space_limit(
        self, client: Client, opened: Opened, bob_profile: Profile
    ) -> None:
        url = path(opened.space, "user_id:u1234", "traits")

        def send() -> list[Any]:
            refused = [get(client, url, opened.token + "x") for _ in range(LIMIT + 2)]
            return [*refused, get(client, url, opened.token)]

        answers = within_one_window(send)
        assert [a.status_code for a in answers] == [401] * (LIMIT + 2) + [200]
