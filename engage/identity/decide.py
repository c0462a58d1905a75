"""The flat matching decision (reference engage.md §3.3-3.5) for one message.

Look the identifiers up; no profile matches -> create one; one matches ->
attach; several -> merge. Whenever the resulting profile would hold more
values of a type than its limit allows (ever, or seen within the sliding
period), the lowest-priority identifier of the message is demoted (neither
matched on nor added) and matching starts again. A merge is checked the same
way over the union of the profiles, which is what keeps two profiles with
different ``user_id`` values apart when ``user_id`` is limited to 1 ("merge
protection"). System limits come last: past 100 merges or 1,000 identifier
mappings a profile takes no more merges or values, but events still resolve.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from engage.identity.extract import Identifier
from engage.identity.rules import Settings

MERGES_MAX = 100
MAPPINGS_MAX = 1000


class Code(StrEnum):
    """Profiles Insights codes; MESSAGES holds the docs' wording."""

    NO_IDENTIFIERS = "no_matching_identifiers"
    VALUE_LIMIT = "identifier_value_limit_exceeded"
    TIME_LIMIT = "identifier_value_time_limit_exceeded"
    BLOCKED = "id_value_blocked"
    MERGE_LIMIT = "profile_merge_limit_exceeded"
    MAPPING_LIMIT = "identifier_mapping_limit_exceeded"
    TOO_MANY_TRAITS = "too_many_traits"


MESSAGES: dict[Code, str] = {
    Code.NO_IDENTIFIERS: "No matching identifiers on event",
    Code.VALUE_LIMIT: "Identifier value limit exceeded",
    Code.TIME_LIMIT: "Identifier value time limit exceeded",
    Code.BLOCKED: "ID value blocked",
    Code.MERGE_LIMIT: "Profile merge limit exceeded",
    Code.MAPPING_LIMIT: "Identifier mapping limit exceeded",
    Code.TOO_MANY_TRAITS: "Identify call with 300 or more traits rejected",
}


class Action(StrEnum):
    CREATE = "create"
    ATTACH = "attach"
    MERGE = "merge"
    NONE = "none"  # nothing to resolve on


@dataclass(slots=True)
class ProfileView:
    """What the decision needs of a profile: its values per type with the time
    each was last seen, and its system-limit counters."""

    key: Hashable
    values: dict[str, dict[str, datetime]] = field(default_factory=dict)
    merges: int = 0
    mappings: int = 0


@dataclass(slots=True)
class Violation:
    code: Code
    detail: dict[str, str]

    @property
    def message(self) -> str:
        return MESSAGES[self.code]


@dataclass(slots=True)
class Decision:
    action: Action
    profile: ProfileView | None = None  # attached to / merged into; None to create
    merged: list[ProfileView] = field(default_factory=list)  # merged into ``profile``
    add: list[Identifier] = field(default_factory=list)  # values new to the profile
    seen: list[Identifier] = field(default_factory=list)  # values it already had
    demoted: list[Identifier] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)


def _over_limit(
    profiles: Sequence[ProfileView],
    new: Sequence[Identifier],
    settings: Settings,
    now: datetime,
) -> str | None:
    """The first type (by priority) the resulting profile would hold too many
    values of. Only types that change are checked: an attach adds values, a
    merge also unions every type of the profiles (tightened rules don't evict
    values a profile already has)."""
    added: dict[str, set[str]] = {}
    for identifier in new:
        added.setdefault(identifier.type, set()).add(identifier.value)
    types = set(added)
    if len(profiles) > 1:
        for profile in profiles:
            types.update(profile.values)
    for type_ in sorted(types, key=lambda t: (settings.priority(t), t)):
        rule = settings.rule(type_)
        window = rule.window
        since = now - window if window is not None else None
        values = set(added.get(type_, ()))
        for profile in profiles:
            for value, last_seen in profile.values.get(type_, {}).items():
                if since is None or last_seen >= since:
                    values.add(value)
        if len(values) > rule.limit:
            return type_
    return None


def decide(
    identifiers: Sequence[Identifier],
    matches: Mapping[Identifier, ProfileView],
    settings: Settings,
    now: datetime,
) -> Decision:
    """``matches`` maps each identifier already in the graph to its profile
    (one collection at a time: the caller decides users and accounts apart)."""
    if not identifiers:
        return Decision(Action.NONE, violations=[Violation(Code.NO_IDENTIFIERS, {})])
    # Most traffic: every identifier known, all on one profile. Nothing is added
    # and nothing merges, so no limit can be exceeded.
    first = matches.get(identifiers[0])
    if first is not None and all(matches.get(i) is first for i in identifiers):
        return Decision(Action.ATTACH, first, seen=list(dict.fromkeys(identifiers)))
    active = sorted(
        dict.fromkeys(identifiers), key=lambda i: (settings.priority(i.type), i.type, i.value)
    )
    demoted: list[Identifier] = []
    violations: list[Violation] = []
    while True:
        profiles: list[ProfileView] = []
        for identifier in active:
            profile = matches.get(identifier)
            if profile is not None and all(p is not profile for p in profiles):
                profiles.append(profile)
        new = [i for i in active if i not in matches]
        over = _over_limit(profiles, new, settings, now) if len(active) > 1 else None
        if over is not None:
            lowest = active.pop()
            demoted.append(lowest)
            rule = settings.rule(over)
            code = Code.VALUE_LIMIT if rule.window is None else Code.TIME_LIMIT
            violations.append(
                Violation(
                    code,
                    {"type": over, "demoted_type": lowest.type, "demoted_value": lowest.value},
                )
            )
            continue
        if len(profiles) > 1:
            survivor, others = profiles[0], profiles[1:]
            cap = _merge_cap(survivor, others, new)
            if cap is not None:
                # No merge: the event stays with the highest-priority match, and
                # the values that belong to the other profiles stay theirs.
                violations.append(Violation(cap, {"segment_key": str(survivor.key)}))
                active = [i for i in active if matches.get(i) in (None, survivor)]
                continue
        break

    seen = [i for i in active if i in matches]
    new = [i for i in active if i not in matches]
    if not profiles:
        return Decision(Action.CREATE, add=new, demoted=demoted, violations=violations)
    target = profiles[0]
    room = max(MAPPINGS_MAX - target.mappings - sum(p.mappings for p in profiles[1:]), 0)
    if len(new) > room:
        violations.append(
            Violation(Code.MAPPING_LIMIT, {"dropped": ", ".join(i.value for i in new[room:])})
        )
        new = new[:room]
    action = Action.MERGE if len(profiles) > 1 else Action.ATTACH
    return Decision(action, target, profiles[1:], new, seen, demoted, violations)


def _merge_cap(
    survivor: ProfileView, others: Sequence[ProfileView], new: Sequence[Identifier]
) -> Code | None:
    merges = survivor.merges + sum(p.merges + 1 for p in others)
    if merges > MERGES_MAX:
        return Code.MERGE_LIMIT
    mappings = survivor.mappings + sum(p.mappings for p in others) + len(new)
    if mappings > MAPPINGS_MAX:
        return Code.MAPPING_LIMIT
    return None
