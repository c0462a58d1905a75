"""PII masking for people without PII Access (registered from ``PrivacyConfig.ready``).

Who sees PII: Workspace Owners always; anyone else through a PII Access grant
(``access.can(principal, "view_pii", workspace)``), only inside what they can
already see. What is hidden from the others, under ``context``, ``traits`` and
``properties`` (the fields detection scans):

* what the workspace's effective matchers flag (the defaults no custom matcher
  switched off, plus the enabled custom matchers; all recommend Red or Yellow:
  "detected PII is masked based on red or yellow default matchers and any custom
  matchers"), and
* the Inventory's Red and Yellow fields, and those ever Red or Yellow
  (``restricted``): "marking it Green will not make it visible". Green has no
  effect on masking, so a Green field a matcher flags stays masked.

A masked value is replaced whole by ``MARKER`` (an object or array included),
on the server. Other JSON made from events (a delivery's request, an audit
diff) has no event paths: there a field is masked when a matcher flags its key
or value or its key names an Inventory field, JSON held in strings is masked
inside, and the masked values of the events it came from are cut out of any
text (a truncated body, a URL).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

from django.db.models import Q

from privacy.matching import Detector
from privacy.models import InventoryField
from privacy.services.detection import compiled_for
from switchyard import access, masking
from switchyard.access import Principal
from workspace.models import Workspace

MARKER = "[masked]"
SCANNED_ROOTS = ("context", "traits", "properties")  # what detection scans
# Deeper than detection looks, nothing is known safe: masked whole.
MAX_DEPTH = 32
RESTRICTED = ("RED", "YELLOW")
# Raw values shorter than this are not cut out of free text ("M" would eat every M).
SCRUB_MIN = 4
_ROOT = "json"  # the key arbitrary JSON is wrapped in to be scanned as "properties.json"
# A "key": value pair in JSON text that no longer parses (a truncated excerpt).
_PAIR = re.compile(r'"((?:[^"\\]|\\.){1,200})"(\s*:\s*)("(?:[^"\\]|\\.)*"?|[^,{}\[\]\s"]+)')

Flagged = Callable[[str, str], bool]  # (path, key) -> hide the value


def sees_pii(principal: Principal, workspace_id: Any) -> bool:
    return access.can(principal, "view_pii", Workspace(pk=workspace_id))


def masker(principal: Principal, workspace_id: Any) -> PiiMask | None:
    """The kernel's masker: None for whoever sees PII, else this workspace's mask
    (its matchers and Inventory read now: two small queries per request)."""
    if sees_pii(principal, workspace_id):
        return None
    paths = InventoryField.objects.filter(
        Q(classification__in=RESTRICTED) | Q(restricted=True), workspace_id=workspace_id
    ).values_list("path", flat=True)
    # The worker's compiled Detector (recompiled when the matchers change): building
    # one costs 1-2 ms, and its key and value caches stay warm across requests.
    return PiiMask(compiled_for(str(workspace_id)).detector, frozenset(paths))


def mask_for(principal: Principal, workspace_id: Any, payload: Mapping[str, Any]) -> Any:
    """An event as ``principal`` may see it: for the Inbox and Inventory samples."""
    return masking.mask_event(principal, workspace_id, payload)


@dataclass
class PiiMask:
    detector: Detector
    paths: frozenset[str]  # the Inventory's restricted field paths

    def __post_init__(self) -> None:
        self.keys = frozenset(path.rsplit(".", 1)[-1] for path in self.paths)

    @property
    def active(self) -> bool:
        return True

    def _flagged_paths(self, event: Mapping[str, Any]) -> set[str]:
        return {path for paths in self.detector.detect(event).values() for path in paths}

    def event(self, payload: Mapping[str, Any]) -> Any:
        if not isinstance(payload, Mapping):
            return payload
        hide = self._flagged_paths(payload) | self.paths
        masked = dict(payload)
        for root in SCANNED_ROOTS:
            node = payload.get(root)
            if isinstance(node, Mapping):
                masked[root] = _mask_object(node, root, lambda path, key: path in hide, 0)
        return masked

    def json(self, value: Any, *, events: Sequence[Mapping[str, Any]] = ()) -> Any:
        raw = sorted(
            {text for event in events for text in self._hidden_values(event)}, key=len, reverse=True
        )
        return self._json(value, raw, 0)

    def _json(self, value: Any, raw: list[str], depth: int) -> Any:
        if isinstance(value, str):
            return self._text(value, raw, depth)
        if not isinstance(value, Mapping | list):
            return value
        # Scanned as one "properties" member: key matchers see every key, value
        # matchers every value, at any depth.
        hide = {
            path
            for path in self._flagged_paths({"properties": {_ROOT: value}})
            if path.startswith(f"properties.{_ROOT}")
        }

        def flagged(path: str, key: str) -> bool:
            return path in hide or key in self.keys

        def leaf(item: Any, depth: int) -> Any:
            return self._text(item, raw, depth) if isinstance(item, str) else item

        root = f"properties.{_ROOT}"
        if root in hide:
            return MARKER
        return _mask_value(value, root, flagged, depth, leaf)

    def _text(self, text: str, raw: list[str], depth: int) -> str:
        stripped = text.strip()
        if stripped[:1] in ("{", "[") and depth < MAX_DEPTH:
            try:
                inner = json.loads(stripped)
            except ValueError:
                text = self._pairs(text)
            else:
                return json.dumps(self._json(inner, raw, depth + 1), ensure_ascii=False)
        for value in raw:
            # As sent in a JSON body, a URL or a form body.
            for form in (value, quote(value, safe=""), quote_plus(value)):
                text = text.replace(form, MARKER)
        if self._flagged_paths({"properties": {_ROOT: text}}):
            return MARKER  # a value matcher found PII in it (an email in a URL)
        return text

    def _pairs(self, text: str) -> str:
        """JSON text cut short: the values of "key": pairs whose key is flagged."""
        keys = {m.group(1) for m in _PAIR.finditer(text)}
        probe = {key: None for key in keys}
        found = self._flagged_paths({"properties": probe})
        hidden = {path.split(".", 1)[1] for path in found} | (keys & self.keys)
        if not hidden:
            return text

        def replace(match: re.Match[str]) -> str:
            if match.group(1) not in hidden:
                return match.group(0)
            return f'"{match.group(1)}"{match.group(2)}"{MARKER}"'

        return _PAIR.sub(replace, text)

    def _hidden_values(self, event: Mapping[str, Any]) -> Iterable[str]:
        """The raw texts this mask hides in ``event``, to cut out of derived text."""
        if not isinstance(event, Mapping):
            return
        hide = self._flagged_paths(event) | self.paths
        found: list[Any] = []
        for root in SCANNED_ROOTS:
            node = event.get(root)
            if isinstance(node, Mapping):
                _collect(node, root, hide, found, 0)
        for value in found:
            yield from _texts(value)


def _mask_object(
    node: Mapping[str, Any],
    prefix: str,
    flagged: Flagged,
    depth: int,
    leaf: Callable[[Any, int], Any] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in node.items():
        path = f"{prefix}.{key}"
        out[key] = (
            MARKER
            if flagged(path, str(key))
            else _mask_value(value, path, flagged, depth + 1, leaf)
        )
    return out


def _mask_value(
    value: Any,
    path: str,
    flagged: Flagged,
    depth: int,
    leaf: Callable[[Any, int], Any] | None = None,
) -> Any:
    if isinstance(value, Mapping | list) and depth >= MAX_DEPTH:
        return MARKER  # deeper than detection looks: nothing there is known safe
    if isinstance(value, Mapping):
        return _mask_object(value, path, flagged, depth, leaf)
    if isinstance(value, list):
        # Array items share their field's path, as detection names them.
        return [_mask_value(item, path, flagged, depth + 1, leaf) for item in value]
    return leaf(value, depth) if leaf is not None else value


def _collect(
    node: Mapping[str, Any],
    prefix: str,
    hide: set[str] | frozenset[str],
    found: list[Any],
    depth: int,
) -> None:
    if depth >= MAX_DEPTH:
        return
    for key, value in node.items():
        path = f"{prefix}.{key}"
        if path in hide:
            found.append(value)
        elif isinstance(value, Mapping):
            _collect(value, path, hide, found, depth + 1)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, Mapping):
                    _collect(item, path, hide, found, depth + 1)


def _texts(value: Any) -> Iterable[str]:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)
    else:
        text = str(value) if not isinstance(value, str) else value
        if len(text) >= SCRUB_MIN:
            yield text
