"""A space's identity resolution settings: seeded defaults, edits, custom
identifiers, priority order, and import from another space.

Who: Workspace Owners, the space's Unify and Engage Admins, and Identity Admins
(``engage.access_rules.identity_settings``). Every change applies only to data
that arrives afterwards: profiles already built are not re-resolved (the docs:
"changes apply only to new data"; tightening a limit can leave existing profiles
past it).

Priorities in a space are always 1..n, each used once. Changing one identifier's
priority moves it there and shifts the others; a reorder names every type. Both
lock all the space's rows (in id order, so two reorders cannot deadlock).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import re2
from django.db import IntegrityError, transaction

from engage.access_rules import identity_settings
from engage.choices import AuditAction
from engage.identity import defaults
from engage.models import IdentifierSetting, Period, Space
from switchyard import locking
from switchyard.access import Action, Principal
from switchyard.errors import (
    AlreadyExists,
    FailedPrecondition,
    InsufficientScope,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from workspace.services import audit

NAME_MAX = 64
LIMIT_MAX = 1000  # a profile holds at most 1,000 identity mappings (system limit)
BLOCKED_MAX = 100
BLOCKED_VALUE_MAX = 200
TYPE_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_.-"
FIELDS = ("type", "priority", "limit", "period", "blocked_values", "custom")
UPDATABLE_FIELDS = frozenset({"priority", "limit", "period", "blocked_values"})
KINDS = (defaults.EXACT, defaults.REGEX)

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # the error goes back to the user, not to stderr


def resource_name(setting: IdentifierSetting) -> str:
    return f"{setting.space.resource_name}/identifiers/{setting.type}"


def snapshot(setting: IdentifierSetting) -> dict[str, Any]:
    return {f: getattr(setting, f) for f in FIELDS}


# -- access -----------------------------------------------------------------------------------


def can(principal: Principal, action: Action, space: Space) -> bool:
    """Whether ``principal`` may ``action`` the space's identity settings."""
    if action != "view" and principal.read_only:
        return False
    if not principal.is_active:
        return False
    if principal.is_superuser:
        return True
    rule = identity_settings("")
    return rule(Space.objects.filter(pk=space.pk), principal, action).exists()


def require(principal: Principal, action: Action, space: Space) -> None:
    if action != "view" and principal.read_only:
        raise InsufficientScope()
    if can(principal, action, space):
        return
    if action == "view" or not can(principal, "view", space):
        raise NotFound("space not found")
    raise PermissionDenied("you may not change this space's identity resolution settings")


def _lock_space(principal: Principal, space: Space, action: Action = "change") -> Space:
    locked = Space.objects.select_for_update().select_related("workspace").filter(pk=space.pk)
    found = locked.first()
    if found is None:
        raise NotFound("space not found")
    require(principal, action, found)
    return found


# -- validation -------------------------------------------------------------------------------


def clean_type(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument("the identifier name is required", field="type")
    name = value.strip()
    if name != name.lower():
        raise InvalidArgument(
            f"identifier names must be lower-case (externalIDs must be lower-case): "
            f"use {name.lower()!r}",
            field="type",
        )
    if len(name) > NAME_MAX or not set(name) <= set(TYPE_CHARS) or not name[0].isalnum():
        raise InvalidArgument(
            f"an identifier name starts with a letter or digit and has at most {NAME_MAX} "
            "lower-case letters, digits, '_', '.' or '-'",
            field="type",
        )
    return name


def clean_limit(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= LIMIT_MAX:
        raise InvalidArgument(f"limit must be a whole number from 1 to {LIMIT_MAX}", field="limit")
    return value


def clean_period(value: object) -> str:
    allowed = [p.value for p in Period]
    text = value.upper() if isinstance(value, str) else value
    if text not in allowed:
        raise InvalidArgument(f"period must be one of {', '.join(allowed)}", field="period")
    return str(text)


def check_pattern(pattern: str) -> None:
    try:
        re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid pattern"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise InvalidArgument(
            f"blocked value {pattern!r} is not a valid regular expression (RE2/Go syntax; "
            f"lookarounds and backreferences are not supported): {reason}",
            field="blocked_values",
        ) from exc


def clean_blocked_values(value: object) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise InvalidArgument(
            "blocked_values must be a list of {value, kind}", field="blocked_values"
        )
    cleaned: list[dict[str, str]] = []
    for entry in value:
        if not isinstance(entry, Mapping) or set(entry) - {"value", "kind"}:
            raise InvalidArgument(
                "each blocked value is {value, kind} (kind EXACT or REGEX)",
                field="blocked_values",
            )
        text, kind = entry.get("value"), entry.get("kind", defaults.EXACT)
        if not isinstance(text, str) or not text or len(text) > BLOCKED_VALUE_MAX:
            raise InvalidArgument(
                f"a blocked value is a non-empty string of at most {BLOCKED_VALUE_MAX} characters",
                field="blocked_values",
            )
        if kind not in KINDS:
            raise InvalidArgument(
                f"a blocked value's kind is one of {', '.join(KINDS)}", field="blocked_values"
            )
        if kind == defaults.REGEX:
            check_pattern(text)
        item = {"value": text, "kind": str(kind)}
        if item not in cleaned:
            cleaned.append(item)
    if len(cleaned) > BLOCKED_MAX:
        raise InvalidArgument(
            f"at most {BLOCKED_MAX} blocked values per identifier", field="blocked_values"
        )
    return cleaned


def _clean_priority(value: object, count: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= count:
        raise InvalidArgument(
            f"priority must be a whole number from 1 to {count} (1 is the highest)",
            field="priority",
        )
    return value


# -- seeding ----------------------------------------------------------------------------------


def seed_defaults(space: Space) -> list[IdentifierSetting]:
    """Give a space the default identifiers it lacks; a no-op when it has them all.

    Called by space creation inside its transaction (its caller checked access and
    audits the creation). Missing defaults go after the space's existing rows, in
    the default order, so priorities stay 1..n.
    """
    with transaction.atomic():
        Space.objects.select_for_update().filter(pk=space.pk).first()
        existing = dict(
            IdentifierSetting.objects.filter(space=space).values_list("type", "priority")
        )
        missing = [d for d in defaults.defaults() if d.type not in existing]
        start = max(existing.values(), default=0)
        IdentifierSetting.objects.bulk_create(
            IdentifierSetting(
                space=space,
                type=d.type,
                priority=d.priority if not existing else start + n,
                limit=d.limit,
                period=d.period,
                blocked_values=defaults.suggested_blocked_values(),
                custom=False,
            )
            for n, d in enumerate(missing, start=1)
        )
    return list(IdentifierSetting.objects.filter(space=space).order_by("priority"))


# -- writes -----------------------------------------------------------------------------------


def _lock_all(space: Space) -> list[IdentifierSetting]:
    rows = IdentifierSetting.objects.select_for_update().filter(space=space).order_by("pk")
    return sorted(rows, key=lambda r: (r.priority, r.type))


def _renumber(rows: list[IdentifierSetting | None]) -> None:
    """Store priorities 1..n in the order of ``rows``, writing only those that moved
    (None holds a rank for the row being placed)."""
    moved = []
    for rank, row in enumerate(rows, start=1):
        if row is not None and row.priority != rank:
            row.priority = rank
            moved.append(row)
    IdentifierSetting.objects.bulk_update(moved, ["priority"])


def do_update_identifier(
    *, principal: Principal, setting: IdentifierSetting, changes: Mapping[str, Any]
) -> IdentifierSetting:
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise InvalidArgument(
            f"cannot update identifier field(s) {sorted(unknown)}; "
            f"updatable: {sorted(UPDATABLE_FIELDS)}"
        )
    with transaction.atomic():
        if "priority" in changes:
            # Moving one shifts others: hold them all, the space first (as reorders do).
            _lock_space(principal, setting.space)
            rows = _lock_all(setting.space)
        locked = locking.lock_for_update(
            principal, "change", setting, write=True, related=("space__workspace",)
        )
        values: dict[str, Any] = {}
        if "limit" in changes:
            values["limit"] = clean_limit(changes["limit"])
        if "period" in changes:
            values["period"] = clean_period(changes["period"])
        if "blocked_values" in changes:
            values["blocked_values"] = clean_blocked_values(changes["blocked_values"])
        before = snapshot(locked)
        if "priority" in changes:
            target = _clean_priority(changes["priority"], len(rows))
            others: list[IdentifierSetting | None] = [r for r in rows if r.pk != locked.pk]
            others.insert(target - 1, None)
            _renumber(others)
            values["priority"] = target
        if locking.save_changes(locked, values):
            audit.record_changes(
                principal,
                AuditAction.IDENTIFIER_UPDATED,
                workspace=locked.space.workspace,
                resource_name=resource_name(locked),
                before=before,
                after=snapshot(locked),
            )
    return locked


def do_add_custom_identifier(
    *,
    principal: Principal,
    space: Space,
    type: str,
    limit: int = defaults.DEFAULT_LIMIT,
    period: str = defaults.DEFAULT_PERIOD,
    blocked_values: list[dict[str, str]] | None = None,
    priority: int | None = None,
) -> IdentifierSetting:
    """A custom identifier (Identifier Name, Value Limit, Blocked Values), last in
    priority unless ``priority`` places it. Its values are read from
    ``context.externalIds`` entries of this type and from a trait or property key of
    the same name (or, for braze_id and cross_domain_id, their documented places)."""
    values: dict[str, Any] = {
        "type": clean_type(type),
        "limit": clean_limit(limit),
        "period": clean_period(period),
        "blocked_values": clean_blocked_values(
            defaults.suggested_blocked_values() if blocked_values is None else blocked_values
        ),
    }
    try:
        with transaction.atomic():
            locked_space = _lock_space(principal, space, "create")
            rows = _lock_all(locked_space)
            if any(r.type == values["type"] for r in rows):
                raise _duplicate(values["type"])
            target = len(rows) + 1 if priority is None else _clean_priority(priority, len(rows) + 1)
            _renumber([*rows[: target - 1], None, *rows[target - 1 :]])
            setting = IdentifierSetting.objects.create(
                space=locked_space, priority=target, custom=True, **values
            )
            audit.record(
                principal,
                AuditAction.IDENTIFIER_CREATED,
                workspace=locked_space.workspace,
                resource_name=resource_name(setting),
                after=snapshot(setting),
            )
    except IntegrityError as exc:  # a concurrent add of the same name
        raise _duplicate(values["type"]) from exc
    return setting


def _duplicate(name: str) -> AlreadyExists:
    return AlreadyExists(f"the space already has an identifier {name!r}", field="type")


def do_remove_custom_identifier(*, principal: Principal, setting: IdentifierSetting) -> None:
    with transaction.atomic():
        space = _lock_space(principal, setting.space, "delete")
        rows = _lock_all(space)
        locked = next((r for r in rows if r.pk == setting.pk), None)
        if locked is None:
            raise NotFound(f"identifier {setting.type!r} not found")
        locked.space = space
        if not locked.custom:
            raise FailedPrecondition(
                f"{locked.type!r} is a default identifier: defaults cannot be removed "
                "(set its limit or blocked values instead)",
                field="type",
            )
        audit.record(
            principal,
            AuditAction.IDENTIFIER_DELETED,
            workspace=space.workspace,
            resource_name=resource_name(locked),
            before=snapshot(locked),
        )
        locked.delete()
        _renumber([r for r in rows if r.pk != locked.pk])


def do_reorder_identifiers(
    *, principal: Principal, space: Space, order: Iterable[str] | Mapping[str, int]
) -> list[IdentifierSetting]:
    """Set every identifier's priority: ``order`` lists the types highest first, or
    maps each type to its priority (unique, 1..n, every type named)."""
    with transaction.atomic():
        locked_space = _lock_space(principal, space)
        rows = _lock_all(locked_space)
        by_type = {r.type: r for r in rows}
        ranked = _ranking(order, len(rows))
        unknown = [t for t in ranked if t not in by_type]
        if unknown:
            raise InvalidArgument(f"unknown identifier(s) {unknown}", field="priorities")
        missing = sorted(set(by_type) - set(ranked))
        if missing:
            raise InvalidArgument(
                f"every identifier needs a priority; missing {missing}", field="priorities"
            )
        before = {r.type: r.priority for r in rows}
        _renumber([by_type[t] for t in ranked])
        after = {r.type: r.priority for r in rows}
        audit.record_changes(
            principal,
            AuditAction.IDENTIFIERS_REORDERED,
            workspace=locked_space.workspace,
            resource_name=f"{locked_space.resource_name}/identifiers",
            before=before,
            after=after,
        )
    return sorted(rows, key=lambda r: r.priority)


def _ranking(order: Iterable[str] | Mapping[str, int], count: int) -> list[str]:
    if not isinstance(order, Mapping):
        ranked = list(order)
        if len(set(ranked)) != len(ranked):
            raise InvalidArgument("an identifier is listed twice", field="priorities")
        return ranked
    priorities = list(order.values())
    if len(set(priorities)) != len(priorities):
        taken = sorted({p for p in priorities if priorities.count(p) > 1})
        raise InvalidArgument(
            f"priorities must be unique: {taken} given to more than one identifier",
            field="priorities",
        )
    if sorted(priorities) != list(range(1, len(priorities) + 1)) or len(priorities) != count:
        raise InvalidArgument(
            f"priorities must run from 1 to {count} without gaps", field="priorities"
        )
    return sorted(order, key=lambda t: order[t])


def do_import_identity_settings(
    *, principal: Principal, from_space: Space, to_space: Space
) -> list[IdentifierSetting]:
    """Replace ``to_space``'s settings with a copy of ``from_space``'s: the same
    identifiers, priorities, limits, periods and blocked values ("IR settings can
    be imported from an existing space" of the workspace)."""
    if from_space.pk == to_space.pk:
        raise InvalidArgument("choose another space to import from", field="from_space")
    if from_space.workspace_id != to_space.workspace_id:
        raise NotFound("space not found")
    with transaction.atomic():
        # Lock both spaces in id order: two imports in opposite directions take turns.
        first, second = sorted((from_space, to_space), key=lambda s: s.pk)
        for space in (first, second):
            Space.objects.select_for_update().filter(pk=space.pk).first()
        source = Space.objects.select_related("workspace").filter(pk=from_space.pk).first()
        target = Space.objects.select_related("workspace").filter(pk=to_space.pk).first()
        if source is None or target is None:
            raise NotFound("space not found")
        require(principal, "view", source)
        require(principal, "change", target)
        copied = list(IdentifierSetting.objects.filter(space=source).order_by("priority", "type"))
        current = _lock_all(target)
        before = {r.type: _settings_of(r) for r in current}
        IdentifierSetting.objects.filter(space=target).delete()
        rows = IdentifierSetting.objects.bulk_create(
            IdentifierSetting(
                space=target,
                type=r.type,
                priority=rank,
                limit=r.limit,
                period=r.period,
                blocked_values=list(r.blocked_values),
                custom=r.custom,
            )
            for rank, r in enumerate(copied, start=1)
        )
        audit.record(
            principal,
            AuditAction.IDENTIFIERS_IMPORTED,
            workspace=target.workspace,
            resource_name=f"{target.resource_name}/identifiers",
            before={"identifiers": before},
            after={
                "from_space": source.resource_name,
                "identifiers": {r.type: _settings_of(r) for r in rows},
            },
        )
    return rows


def _settings_of(row: IdentifierSetting) -> dict[str, Any]:
    return {k: v for k, v in snapshot(row).items() if k != "type"}


def visible_space(principal: Principal, workspace: Any, slug: str) -> Space:
    """The workspace's space ``slug`` if the principal may see its identity settings
    (Identity Admins see every space's); NotFound otherwise, whether it exists or not."""
    space = Space.objects.select_related("workspace").filter(workspace=workspace, slug=slug).first()
    if space is None:
        raise NotFound(f"space {slug!r} not found")
    require(principal, "view", space)
    return space


def settings_of(space: Space) -> list[IdentifierSetting]:
    """The space's identifiers, highest priority first (the caller saw the space)."""
    rows = IdentifierSetting.objects.filter(space=space).select_related("space__workspace")
    return list(rows.order_by("priority", "type"))


def importable_spaces(principal: Principal, space: Space) -> list[Space]:
    """The workspace's other spaces whose settings the principal may read."""
    rows = Space.objects.filter(workspace_id=space.workspace_id, delete_time__isnull=True)
    rows = rows.exclude(pk=space.pk).order_by("display_name", "pk")
    if principal.is_superuser:
        return list(rows)
    return list(identity_settings("")(rows, principal, "view"))
