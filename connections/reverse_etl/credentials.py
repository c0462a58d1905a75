"""Warehouse secrets (password, DSN) encrypted at rest.

The project had no encryption to reuse: access tokens are stored as SHA-256
digests (they only need checking), and destination secrets are stored as they
are, only hidden from API answers. A warehouse password must be read back to
connect, so it is encrypted: Fernet (AES-128-CBC + HMAC-SHA256) under a key
derived with HKDF from ``SECRET_KEY``. ``SECRET_KEY_FALLBACKS`` still decrypt,
so rotating the secret key keeps stored credentials readable; re-saving a
source re-encrypts under the current key.
"""

from __future__ import annotations

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from switchyard.errors import FailedPrecondition

_INFO = b"switchyard reverse-etl warehouse credentials v1"


def _derive(secret_key: str) -> Fernet:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(raw))


@cache
def _cipher(secret_key: str, fallbacks: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([_derive(secret_key), *(_derive(k) for k in fallbacks)])


def _current() -> MultiFernet:
    return _cipher(settings.SECRET_KEY, tuple(getattr(settings, "SECRET_KEY_FALLBACKS", ())))


def encrypt(plaintext: str) -> str:
    """The stored form of a secret; "" stays "" (not set)."""
    if not plaintext:
        return ""
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored:
        return ""
    try:
        return _current().decrypt(stored.encode()).decode()
    except InvalidToken as exc:
        raise FailedPrecondition(
            "the source's stored credentials cannot be decrypted (SECRET_KEY changed without "
            "keeping the old one in SECRET_KEY_FALLBACKS): enter the password or DSN again"
        ) from exc
