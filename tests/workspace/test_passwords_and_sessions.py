from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db


def test_passwords_are_hashed_with_argon2(alice: User) -> None:
    assert alice.password.startswith("argon2$")
    assert alice.check_password("correct-horse-42")


def test_sessions_last_seven_days() -> None:
    assert settings.SESSION_COOKIE_AGE == 7 * 24 * 3600


def test_short_and_common_passwords_are_refused_at_sign_up(alice: User) -> None:
    from switchyard.access import Principal
    from workspace.models import Invitation
    from workspace.services.members import do_invite_member
    from workspace.services.workspaces import do_create_workspace

    workspace = do_create_workspace(principal=Principal(alice), slug="acme", display_name="Acme")
    _invitation, secret = do_invite_member(
        principal=Principal(alice), workspace=workspace, email="new@example.com"
    )
    for password in ("short1", "password", "12345678"):
        response = Client().post(f"/invites/{secret}", {"username": "newbie", "password": password})
        assert response.status_code == 400, password
    assert not User.objects.filter(username="newbie").exists()
    assert Invitation.objects.get().accept_time is None
