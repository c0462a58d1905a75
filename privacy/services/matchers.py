"""Custom PII matchers: create, update, delete (Workspace Owners; audited).

A custom matcher names what it recommends (Red or Yellow: Green is not offered
for matchers), what it matches on (the key or the value), an RE2 pattern
(required to match on values; optional for keys, searched in field names), a
precision for key names (exact or similar) and synonyms. At most 100 per
workspace; the workspace row is locked while counting, so concurrent creates
cannot pass the limit together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.db import IntegrityError, transaction

from privacy.choices import AuditAction
from privacy.matching import (
    Classification,
    MatchOn,
    PatternError,
    Precision,
    compact,
    compile_pattern,
)
from privacy.models import PiiMatcher
from switchyard import access, locking, names
from switchyard.access import Principal
from switchyard.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from workspace.models import Workspace
from workspace.services import audit

LIMIT = 100  # "You can have up to 100 custom matchers per workspace."
NAME_MAX = 100
SYNONYMS_MAX = 50
SYNONYM_MAX = 100
FIELDS = ("name", "classification", "match_on", "precision", "pattern", "synonyms", "enabled")
UPDATABLE_FIELDS = frozenset(FIELDS)


def snapshot(matcher: PiiMatcher) -> dict[str, Any]:
    return {f: getattr(matcher, f) for f in FIELDS}


def _choice(value: object, choices: type[Classification | MatchOn | Precision], field: str) -> str:
    allowed = [c.value for c in choices]
    text = value.upper() if isinstance(value, str) else value
    if text not in allowed:
        raise InvalidArgument(f"{field} must be one of {', '.join(allowed)}", field=field)
    return str(text)


def _name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument("name is required", field="name")
    value = value.strip()
    if len(value) > NAME_MAX or not compact(value):
        raise InvalidArgument(
            f"name must contain a letter or digit and be at most {NAME_MAX} characters",
            field="name",
        )
    return value


def _pattern(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidArgument("pattern must be a string", field="pattern")
    if value:
        try:
            compile_pattern(value)
        except PatternError as exc:
            raise InvalidArgument(str(exc), field="pattern") from exc
    return value


def _synonyms(value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise InvalidArgument("synonyms must be a list of strings", field="synonyms")
    cleaned: list[str] = []
    for synonym in (s.strip() for s in value):
        if not synonym or not compact(synonym) or len(synonym) > SYNONYM_MAX:
            raise InvalidArgument(
                f"each synonym must contain a letter or digit and be at most "
                f"{SYNONYM_MAX} characters",
                field="synonyms",
            )
        if synonym not in cleaned:
            cleaned.append(synonym)
    if len(cleaned) > SYNONYMS_MAX:
        raise InvalidArgument(f"at most {SYNONYMS_MAX} synonyms", field="synonyms")
    return cleaned


def _enabled(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgument("enabled must be true or false", field="enabled")
    return value


_CLEAN: dict[str, Callable[[Any], Any]] = {
    "name": _name,
    "classification": lambda v: _choice(v, Classification, "classification"),
    "match_on": lambda v: _choice(v, MatchOn, "match_on"),
    "precision": lambda v: _choice(v, Precision, "precision"),
    "pattern": _pattern,
    "synonyms": _synonyms,
    "enabled": _enabled,
}


def _check_whole(values: Mapping[str, Any]) -> None:
    """Rules across fields, on the matcher as it would be stored."""
    if values["match_on"] == MatchOn.VALUE and not values["pattern"]:
        raise InvalidArgument(
            "a matcher that matches on the value needs a pattern (a regular expression)",
            field="pattern",
        )


def _duplicate(name: str) -> AlreadyExists:
    return AlreadyExists(f"a custom matcher named {name!r} already exists", field="name")


def _name_taken(workspace: Workspace, name: str, exclude: int | None = None) -> bool:
    rows = PiiMatcher.objects.filter(workspace=workspace, name__iexact=name)
    return rows.exclude(pk=exclude).exists() if exclude else rows.exists()


def do_create_pii_matcher(
    *,
    principal: Principal,
    workspace: Workspace,
    name: str,
    classification: str,
    match_on: str,
    pattern: str = "",
    precision: str = Precision.EXACT,
    synonyms: list[str] | None = None,
    enabled: bool = True,
) -> PiiMatcher:
    access.require(principal, "administer", workspace, write=True)
    given = {
        "name": name,
        "classification": classification,
        "match_on": match_on,
        "precision": precision,
        "pattern": pattern,
        "synonyms": synonyms,
        "enabled": enabled,
    }
    values = {f: _CLEAN[f](v) for f, v in given.items()}
    _check_whole(values)
    try:
        with transaction.atomic():
            # Serialises creates in this workspace, so the count below is the truth.
            Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
            if PiiMatcher.objects.filter(workspace=workspace).count() >= LIMIT:
                raise FailedPrecondition(
                    f"a workspace can have at most {LIMIT} custom matchers; "
                    "delete one to add another"
                )
            if _name_taken(workspace, values["name"]):
                raise _duplicate(values["name"])
            matcher = PiiMatcher.objects.create(
                workspace=workspace, key_id=names.generate_id("pm"), **values
            )
            audit.record(
                principal,
                AuditAction.PII_MATCHER_CREATED,
                workspace=workspace,
                resource_name=matcher.resource_name,
                after=snapshot(matcher),
            )
    except IntegrityError as exc:  # lost a race with a concurrent create of the name
        raise _duplicate(values["name"]) from exc
    return matcher


def do_update_pii_matcher(
    *, principal: Principal, matcher: PiiMatcher, changes: Mapping[str, Any]
) -> PiiMatcher:
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise InvalidArgument(f"cannot update matcher field(s) {sorted(unknown)}")
    try:
        with transaction.atomic():
            locked = locking.lock_for_update(
                principal,
                "administer",
                matcher,
                write=True,
                related=("workspace",),
                subject=lambda row: row.workspace,
            )
            values = {f: _CLEAN[f](v) for f, v in changes.items()}
            _check_whole({**snapshot(locked), **values})
            if "name" in values and _name_taken(locked.workspace, values["name"], locked.pk):
                raise _duplicate(values["name"])
            before = snapshot(locked)
            if locking.save_changes(locked, values):
                audit.record_changes(
                    principal,
                    AuditAction.PII_MATCHER_UPDATED,
                    workspace=locked.workspace,
                    resource_name=locked.resource_name,
                    before=before,
                    after=snapshot(locked),
                )
    except IntegrityError as exc:
        raise _duplicate(str(changes.get("name"))) from exc
    return locked


def do_delete_pii_matcher(*, principal: Principal, matcher: PiiMatcher) -> None:
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal,
            "administer",
            matcher,
            write=True,
            related=("workspace",),
            subject=lambda row: row.workspace,
        )
        audit.record(
            principal,
            AuditAction.PII_MATCHER_DELETED,
            workspace=locked.workspace,
            resource_name=locked.resource_name,
            before=snapshot(locked),
        )
        locked.delete()
