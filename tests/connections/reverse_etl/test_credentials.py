"""Warehouse secrets are encrypted under a key derived from SECRET_KEY, survive a
key rotation that keeps the old key in SECRET_KEY_FALLBACKS, and fail with a clear
message (not a crash) when the key is gone."""

from __future__ import annotations

import pytest
from django.test import override_settings

from connections.reverse_etl import credentials
from switchyard.errors import FailedPrecondition

OLD, NEW = "old-secret-key-" + "x" * 40, "new-secret-key-" + "y" * 40


def test_a_secret_is_stored_encrypted_and_read_back() -> None:
    with override_settings(SECRET_KEY=OLD, SECRET_KEY_FALLBACKS=[]):
        stored = credentials.encrypt("hunter2-password")
        assert "hunter2" not in stored
        assert credentials.decrypt(stored) == "hunter2-password"
        assert credentials.encrypt("") == "" and credentials.decrypt("") == ""


def test_a_rotated_secret_key_still_decrypts_through_its_fallbacks() -> None:
    with override_settings(SECRET_KEY=OLD, SECRET_KEY_FALLBACKS=[]):
        stored = credentials.encrypt("pw")
    with override_settings(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[OLD]):
        assert credentials.decrypt(stored) == "pw"
    with (
        override_settings(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[]),
        pytest.raises(FailedPrecondition, match="enter the password or DSN again"),
    ):
        credentials.decrypt(stored)
