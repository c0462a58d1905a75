"""Write keys: what the tracking libraries authenticate with. A source has one
from birth; admins add more (to rotate) and revoke old ones."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from connections.choices import AuditAction
from connections.models import Source, WriteKey
from switchyard import access, locking, names
from switchyard.access import Principal
from switchyard.errors import FailedPrecondition
from switchyard.validation import clean_text
from workspace.services import audit

ACTIVE_KEYS_MAX = 10


def _new_key(source: Source, description: str) -> WriteKey:
    return WriteKey.objects.create(
        source=source,
        key_id=names.generate_id("wk", 12),
        secret=names.generate_id(length=32),
        description=description,
    )


def create_first_key(source: Source) -> WriteKey:
    """Inside do_create_source's transaction, which audits the source."""
    return _new_key(source, "created with the source")


def do_create_write_key(
    *, principal: Principal, source: Source, description: object = ""
) -> WriteKey:
    access.require(principal, "change", source)
    text = clean_text(description, field="description", limit=200, required=False)
    with transaction.atomic():
        active = WriteKey.objects.select_for_update().filter(source=source, revoke_time=None)
        if len(active) >= ACTIVE_KEYS_MAX:
            raise FailedPrecondition(
                f"a source holds at most {ACTIVE_KEYS_MAX} active write keys; revoke one first"
            )
        key = _new_key(source, text)
        audit.record(
            principal,
            AuditAction.WRITE_KEY_CREATED,
            workspace=source.workspace,
            resource_name=key.resource_name,
            after={"key_id": key.key_id, "description": key.description},
        )
    return key


def do_revoke_write_key(*, principal: Principal, key: WriteKey) -> WriteKey:
    """Revoked keys stop authenticating at once; the last active key may go too
    (the source then accepts nothing until a new key is created)."""
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal, "change", key, related=("source__workspace",), subject=lambda k: k.source
        )
        if locked.revoke_time is not None:
            raise FailedPrecondition(f"write key {locked.key_id} is already revoked")
        locking.save_changes(locked, {"revoke_time": timezone.now()})
        audit.record(
            principal,
            AuditAction.WRITE_KEY_REVOKED,
            workspace=locked.source.workspace,
            resource_name=locked.resource_name,
            before={"key_id": locked.key_id},
        )
    return locked


def can_read_secret(principal: Principal, source: Source) -> bool:
    """Full keys go to those who may change the source; others see them masked."""
    return access.can(principal, "change", source)
