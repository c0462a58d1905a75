"""What a principal may see of event data: the hook PII masking goes through.

The kernel owns the registry and knows nothing of PII: an app (privacy)
registers a masker from its ``AppConfig.ready``. A masker answers, for one
principal in one workspace, a ``Mask`` (or None: they see everything). Whatever
shows event data (the debugger, the events API, the delivery drill-down, audit
diffs, privacy's samples) asks ``mask_for`` once per request and applies the
mask to each payload before it leaves the server. With no masker registered,
everything is shown as stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from switchyard.access.principal import Principal


class Mask(Protocol):
    @property
    def active(self) -> bool:
        """Whether anything may be hidden (False: ``event`` and ``json`` return their input)."""
        ...

    def event(self, payload: Mapping[str, Any]) -> Any:
        """A stored event as the principal may see it (a copy when anything is hidden)."""
        ...

    def json(self, value: Any, *, events: Sequence[Mapping[str, Any]] = ()) -> Any:
        """Any other JSON derived from events (a delivery's request, an audit diff),
        where fields can only be recognised by their names and values; ``events``
        are the events it was made from, whose hidden values are hidden in it too."""
        ...


Masker = Callable[[Principal, Any], Mask | None]

_maskers: list[Masker] = []


class _Identity:
    active = False

    def event(self, payload: Mapping[str, Any]) -> Any:
        return payload

    def json(self, value: Any, *, events: Sequence[Mapping[str, Any]] = ()) -> Any:
        return value


IDENTITY: Mask = _Identity()


class _Chain:
    active = True

    def __init__(self, masks: list[Mask]) -> None:
        self.masks = masks

    def event(self, payload: Mapping[str, Any]) -> Any:
        for mask in self.masks:
            payload = mask.event(payload)
        return payload

    def json(self, value: Any, *, events: Sequence[Mapping[str, Any]] = ()) -> Any:
        for mask in self.masks:
            value = mask.json(value, events=events)
        return value


def register(masker: Masker) -> None:
    if masker not in _maskers:
        _maskers.append(masker)


def unregister(masker: Masker) -> None:
    if masker in _maskers:
        _maskers.remove(masker)


def mask_for(principal: Principal, workspace_id: Any) -> Mask:
    """The mask of ``principal`` in the workspace: ask once per request, apply to
    every payload shown (maskers may read the database; nothing is cached across
    requests, so a revoked PII Access or a new classification applies at once)."""
    masks = [m for m in (masker(principal, workspace_id) for masker in _maskers) if m is not None]
    active = [m for m in masks if m.active]
    if not active:
        return IDENTITY
    return active[0] if len(active) == 1 else _Chain(active)


def mask_event(principal: Principal, workspace_id: Any, payload: Mapping[str, Any]) -> Any:
    return mask_for(principal, workspace_id).event(payload)


def mask_json(
    principal: Principal,
    workspace_id: Any,
    value: Any,
    *,
    events: Sequence[Mapping[str, Any]] = (),
) -> Any:
    return mask_for(principal, workspace_id).json(value, events=events)
