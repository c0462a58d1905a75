"""Sign-in lockout (django-axes): per username and per address, audited, unlockable by
owners; and the password hasher's cost."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher as DjangoArgon2
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.contrib.auth.models import User
from django.test import Client, RequestFactory, override_settings
from rest_framework.test import APIClient

from switchyard.client_address import client_address
from workspace.models import AuditEntry, Membership, Workspace

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-42"  # tests/conftest.py's make_user
HOME = "203.0.113.10"
ELSEWHERE = "198.51.100.20"
LIMIT = settings.AXES_FAILURE_LIMIT
USERS = "/v1beta/workspaces/acme/users"
ACCESS = "/workspaces/acme/settings/access"


@pytest.fixture
def acme(alice: User, bob: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    workspace = make_workspace(alice, "acme", "Acme")
    Membership.objects.create(workspace=workspace, user=bob)
    return workspace


def sign_in(username: str, password: str, address: str = HOME, **extra: str) -> int:
    response = Client(REMOTE_ADDR=address).post(
        "/login", {"username": username, "password": password}, **extra
    )
    return response.status_code


def lock_out(username: str, address: str = HOME) -> None:
    codes = [sign_in(username, "wrong-password", address) for _ in range(LIMIT)]
    # The failures before the limit answer the form again; the one reaching it, 429.
    assert codes == [200] * (LIMIT - 1) + [429]


def lockouts() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="user.locked_out").order_by("id"))


def test_the_defaults_are_five_failures_and_fifteen_minutes() -> None:
    assert LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]


def test_after_the_limit_even_the_right_password_is_refused_with_429(
    acme: Workspace, alice: User
) -> None:
    lock_out("alice")
    response = Client(REMOTE_ADDR=HOME).post("/login", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many failed sign-in attempts" in html
    assert "Try again in 15 minutes" in html
    assert "ask a Workspace Owner to unlock your account" in html
    assert '<form method="post" action="/login">' in html  # the sign-in page, not a bare text
    assert "_auth_user_id" not in Client().session


def test_a_locked_user_is_refused_from_another_address_too(acme: Workspace, alice: User) -> None:
    lock_out("alice", HOME)
    assert sign_in("alice", PASSWORD, ELSEWHERE) == 429
    assert sign_in("bob", PASSWORD, ELSEWHERE) == 302  # the address itself is fine


def test_an_address_at_the_limit_is_refused_for_every_username(acme: Workspace) -> None:
    for n in range(LIMIT - 1):
        assert sign_in(f"ghost{n}", "guess", HOME) == 200
    assert sign_in("ghost-last", "guess", HOME) == 429
    assert sign_in("bob", PASSWORD, HOME) == 429
    assert sign_in("bob", PASSWORD, ELSEWHERE) == 302


def test_forwarded_for_is_not_trusted_by_default(acme: Workspace) -> None:
    """A client naming a fresh address per attempt is still one address."""
    for n in range(LIMIT):
        sign_in("alice", "wrong", HOME, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert sign_in("bob", PASSWORD, HOME, HTTP_X_FORWARDED_FOR="192.0.2.99") == 429


def test_behind_trusted_proxies_the_address_the_outermost_one_saw_counts() -> None:
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7, 10.0.0.1"
    )
    assert client_address(request) == "10.0.0.2"
    with override_settings(SWITCHYARD_TRUSTED_PROXY_COUNT=1):
        assert client_address(request) == "10.0.0.1"
    with override_settings(SWITCHYARD_TRUSTED_PROXY_COUNT=2):
        assert client_address(request) == "203.0.113.7"  # 6.6.6.6 is the client's own claim
    with override_settings(SWITCHYARD_TRUSTED_PROXY_COUNT=5):
        assert client_address(request) == "10.0.0.2"  # not through that many proxies
    garbage = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="nonsense")
    with override_settings(SWITCHYARD_TRUSTED_PROXY_COUNT=1):
        assert client_address(garbage) == "10.0.0.2"


def test_success_clears_the_users_own_failures(acme: Workspace) -> None:
    for _ in range(LIMIT - 1):
        assert sign_in("alice", "wrong", HOME) == 200
    assert sign_in("alice", PASSWORD, HOME) == 302
    for _ in range(LIMIT - 1):
        assert sign_in("alice", "wrong", HOME) == 200
    assert sign_in("alice", PASSWORD, HOME) == 302


def test_signing_in_to_ones_own_account_does_not_clear_failures_against_another(
    acme: Workspace,
) -> None:
    """(django-axes' own reset on success clears the whole address: not used.)"""
    for _ in range(LIMIT - 1):
        assert sign_in("alice", "guess", HOME) == 200
    assert sign_in("bob", PASSWORD, HOME) == 302
    assert sign_in("alice", "guess", HOME) == 429


def test_lockout_is_audited_once_in_each_of_the_users_workspaces(
    acme: Workspace, alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    globex = make_workspace(alice, "globex", "Globex")
    lock_out("alice")
    sign_in("alice", PASSWORD)  # refused attempts are not new lockouts
    sign_in("alice", "wrong", ELSEWHERE)
    entries = lockouts()
    assert [e.workspace_id for e in entries] == [acme.pk, globex.pk]
    assert entries[0].resource_name == f"workspaces/acme/users/{alice.pk}"
    assert entries[0].actor_user is None
    assert entries[0].after == {
        "username": "alice",
        "ip_address": HOME,
        "locked_by": ["username", "ip_address"],
    }


def test_lockout_of_an_unknown_username_is_audited_without_a_workspace(db: None) -> None:
    for _ in range(LIMIT):
        sign_in("nobody-here", "guess", HOME)
    [entry] = lockouts()
    assert entry.workspace is None and entry.resource_name == "users/nobody-here"
    assert entry.after["locked_by"] == ["username", "ip_address"]


def test_tokens_and_open_sessions_are_not_password_sign_ins(
    acme: Workspace, alice: User, api: APIClient
) -> None:
    signed_in = Client()
    signed_in.force_login(alice)
    lock_out("alice")
    assert api.get("/v1beta/workspaces/acme").status_code == 200
    assert signed_in.get("/workspaces/acme/").status_code == 200


def test_the_admin_sign_in_is_locked_out_the_same_way(make_user: Callable[..., User]) -> None:
    make_user("root", is_staff=True, is_superuser=True)
    client = Client(REMOTE_ADDR=HOME)
    codes = [
        client.post("/django-admin/login/", {"username": "root", "password": "wrong"}).status_code
        for _ in range(LIMIT)
    ]
    assert codes[-1] == 429
    response = client.post("/django-admin/login/", {"username": "root", "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content


def test_the_users_tab_shows_who_is_locked_out_and_unlocks_them(
    acme: Workspace, alice: User, bob: User
) -> None:
    lock_out("bob")
    owner = Client()
    owner.force_login(alice)
    page = owner.get(f"{ACCESS}/").content.decode()
    assert page.count("data-locked-out") == 1
    assert f'action="{ACCESS}/users/{bob.pk}/unlock"' in page
    response = owner.post(f"{ACCESS}/users/{bob.pk}/unlock", follow=True)
    assert b"Unlocked bob" in response.content
    assert b"data-locked-out" not in response.content
    assert sign_in("bob", PASSWORD, ELSEWHERE) == 302
    [entry] = AuditEntry.objects.filter(action="user.unlocked")
    assert entry.workspace == acme and entry.actor_user == alice
    assert entry.resource_name == f"workspaces/acme/users/{bob.pk}"
    assert entry.before == {"username": "bob", "failed_sign_ins": LIMIT}


def test_an_owner_unlocks_a_member_through_the_api(
    acme: Workspace, bob: User, api: APIClient
) -> None:
    lock_out("bob")
    listed = {u["username"]: u["locked_out"] for u in api.get(USERS).json()["users"]}
    assert listed == {"alice": False, "bob": True}
    response = api.post(f"{USERS}/{bob.pk}:unlock")
    assert response.status_code == 200, response.content
    assert response.json()["username"] == "bob" and response.json()["locked_out"] is False
    assert sign_in("bob", PASSWORD, ELSEWHERE) == 302
    [entry] = AuditEntry.objects.filter(action="user.unlocked")
    assert entry.actor_token is not None and entry.after == {
        "username": "bob",
        "failed_sign_ins": 0,
    }
    # Nothing left to clear: nothing to audit.
    assert api.post(f"{USERS}/{bob.pk}:unlock").status_code == 200
    assert AuditEntry.objects.filter(action="user.unlocked").count() == 1


def test_a_member_cannot_unlock(
    acme: Workspace,
    bob: User,
    make_user: Callable[..., User],
    token_client: Callable[..., APIClient],
) -> None:
    carol = make_user("carol")
    Membership.objects.create(workspace=acme, user=carol)
    lock_out("carol")
    assert token_client(bob).post(f"{USERS}/{carol.pk}:unlock").status_code == 403
    member = Client()
    member.force_login(bob)
    assert member.post(f"{ACCESS}/users/{carol.pk}/unlock").status_code == 403
    assert sign_in("carol", PASSWORD, ELSEWHERE) == 429
    assert not AuditEntry.objects.filter(action="user.unlocked").exists()


def test_an_owner_cannot_unlock_someone_outside_their_workspace(
    acme: Workspace,
    bob: User,
    make_user: Callable[..., User],
    make_workspace: Callable[..., Workspace],
    token_client: Callable[..., APIClient],
) -> None:
    dave = make_user("dave")
    make_workspace(dave, "globex", "Globex")
    lock_out("bob")
    other_owner = token_client(dave)
    response = other_owner.post(f"/v1beta/workspaces/globex/users/{bob.pk}:unlock")
    assert response.status_code == 404
    assert other_owner.post(f"{USERS}/{bob.pk}:unlock").status_code == 404  # not their workspace
    ui = Client()
    ui.force_login(dave)
    assert ui.post(f"/workspaces/globex/settings/access/users/{bob.pk}/unlock").status_code == 404
    assert sign_in("bob", PASSWORD, ELSEWHERE) == 429


def test_a_superuser_unlocks_anyone_through_the_api(
    acme: Workspace,
    bob: User,
    make_user: Callable[..., User],
    token_client: Callable[..., APIClient],
) -> None:
    root = make_user("root", is_superuser=True, is_staff=True)
    lock_out("bob")
    assert token_client(root).post(f"{USERS}/{bob.pk}:unlock").status_code == 200
    assert sign_in("bob", PASSWORD, ELSEWHERE) == 302


def test_the_collection_takes_no_post(acme: Workspace, api: APIClient) -> None:
    assert api.post(USERS, {"user": {}}, format="json").status_code == 405


# --- The password hasher ------------------------------------------------------


def test_new_passwords_use_argon2id_above_owasps_minimum() -> None:
    encoded = make_password("a long enough passphrase")
    hasher = identify_hasher(encoded)
    params = hasher.decode(encoded)
    assert params["algorithm"] == "argon2" and params["variety"] == "argon2id"
    assert (params["memory_cost"], params["time_cost"], params["parallelism"]) == (32768, 2, 1)
    # OWASP: at least 19 MiB with 2 passes and 1 lane.
    assert params["memory_cost"] >= 19 * 1024 and params["time_cost"] >= 2
    assert check_password("a long enough passphrase", encoded)
    assert not check_password("another passphrase", encoded)


def test_hashes_with_the_old_parameters_verify_and_are_rehashed_on_sign_in(
    acme: Workspace, alice: User
) -> None:
    old = DjangoArgon2()  # Django's defaults, which earlier installs stored
    alice.password = old.encode(PASSWORD, old.salt())
    alice.save(update_fields=["password"])
    assert old.decode(alice.password)["memory_cost"] == 102400
    assert sign_in("alice", PASSWORD) == 302
    alice.refresh_from_db()
    params = identify_hasher(alice.password).decode(alice.password)
    assert (params["memory_cost"], params["time_cost"], params["parallelism"]) == (32768, 2, 1)
    assert check_password(PASSWORD, alice.password)


def test_a_read_only_token_cannot_unlock(
    acme: Workspace, alice: User, bob: User, token_client: Callable[..., APIClient]
) -> None:
    lock_out("bob")
    assert token_client(alice, read_only=True).post(f"{USERS}/{bob.pk}:unlock").status_code == 403
    assert sign_in("bob", PASSWORD, ELSEWHERE) == 429
