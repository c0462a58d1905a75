"""One mapping field's input in the editor, in one of three modes:

- ``value``: an input fitting the field's type (text that may hold ``{{path}}``
  templates, a number, a toggle, a pick list, key/value rows for objects, one
  line per item for lists);
- ``path``: the path picker, stored as ``{"@path": "$.x"}``;
- ``json``: the raw JSON (advanced), for anything the other two cannot show.

Each mode has its own input names so the server knows what the user typed:
``v_<key>`` (value), ``k_<key>``/``kv_<key>`` (object rows), ``p_<key>`` (path),
``f_<key>`` (JSON). ``m_<key>`` is the chosen mode and ``rm_<key>`` the mode the
row was drawn in; a post without ``m_<key>`` is raw JSON, as the editor posted
before modes existed (and as scripts and older tests still do).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from connections.catalog import FieldDef
from switchyard.errors import InvalidArgument
from switchyard.validation import load_json

MODES = {"value": "Value", "path": "Path", "json": "JSON (advanced)"}
TEXT_TYPES = frozenset({"STRING", "TEXT", "PASSWORD", "DATETIME"})
NUMBER_TYPES = frozenset({"NUMBER", "INTEGER"})


class FieldInputError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class FieldInput:
    """What one field's row shows: its mode and the input of that mode."""

    spec: FieldDef
    mode: str
    text: str = ""  # value mode: text, number, pick list, or the lines of a list
    checked: bool = False  # value mode of a boolean
    pairs: list[tuple[str, str]] = field(default_factory=list)  # value mode of an object
    path: str = ""
    json: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def kind(self) -> str | None:
        return value_kind(self.spec)

    @property
    def modes(self) -> dict[str, str]:
        return modes_of(self.spec)

    @property
    def shown_pairs(self) -> list[tuple[str, str]]:
        """The object's rows plus one blank row to type into (also without JS)."""
        return [*self.pairs, ("", "")]


def value_kind(spec: FieldDef) -> str | None:
    """Which typed input the field gets in value mode; None when only path or JSON fit."""
    if spec.multiple:
        return "lines" if spec.type in TEXT_TYPES | NUMBER_TYPES else None
    if spec.choices and spec.type in TEXT_TYPES:
        return "choice"
    if spec.type in TEXT_TYPES:
        return "text"
    if spec.type == "INTEGER":
        return "integer"
    if spec.type == "NUMBER":
        return "number"
    if spec.type == "BOOLEAN":
        return "toggle"
    if spec.type == "OBJECT":
        return "object"
    return None


def modes_of(spec: FieldDef) -> dict[str, str]:
    if value_kind(spec) is None:
        return {k: v for k, v in MODES.items() if k != "value"}
    return dict(MODES)


# --- stored value -> inputs --------------------------------------------------------------


def _only(value: Any, directive: str) -> str | None:
    """The argument of ``{"<directive>": "<text>"}``, else None."""
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get(directive), str):
        return str(value[directive])
    return None


def _is_template(text: str) -> bool:
    return "{{" in text and "}}" in text


def _text_of(value: Any) -> str | None:
    """A string field's value as its text box shows it: a literal, or a template."""
    template = _only(value, "@template")
    if template is not None:
        return template if _is_template(template) and "\n" not in template else None
    if isinstance(value, str) and not _is_template(value) and "\n" not in value:
        return value
    return None


def _number_of(value: Any, integer: bool) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if integer and not isinstance(value, int):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return json.dumps(value)


def _pair_value_of(value: Any) -> str | None:
    """An object's entry as its text box shows it: a literal, a $.path or a template."""
    path = _only(value, "@path")
    if path is not None:
        return path if _looks_like_path(path) and "\n" not in path else None
    if isinstance(value, str) and _looks_like_path(value):
        return None  # a literal "$.x" would come back as a path
    return _text_of(value)


def _looks_like_path(text: str) -> bool:
    return text == "$" or text.startswith("$.")


def _value_text(spec: FieldDef, kind: str, value: Any) -> tuple[str, bool] | None:
    """The value-mode text (or toggle state) showing ``value``, or None when it can't."""
    if kind == "text":
        text = _text_of(value)
        return None if text is None else (text, False)
    if kind == "choice":
        return (value, False) if isinstance(value, str) and value in spec.choices else None
    if kind in ("number", "integer"):
        text = _number_of(value, kind == "integer")
        return None if text is None else (text, False)
    if kind == "toggle":
        return ("", value) if isinstance(value, bool) else None
    if kind == "lines":
        if not isinstance(value, list) or not value:
            return None
        if spec.type in NUMBER_TYPES:
            items = [_number_of(item, spec.type == "INTEGER") for item in value]
        else:
            items = [_text_of(item) for item in value]
        if any(item is None or not item.strip() for item in items):
            return None
        return "\n".join(item for item in items if item is not None), False
    return None


def _pairs_of(value: Any) -> list[tuple[str, str]] | None:
    if not isinstance(value, dict) or not value:
        return None
    pairs = []
    for key, item in value.items():
        if not isinstance(key, str) or not key.strip() or key.startswith("@"):
            return None
        text = _pair_value_of(item)
        if text is None:
            return None
        pairs.append((key, text))
    return pairs


def mode_for(spec: FieldDef, value: Any) -> str:
    """The mode that shows a stored value as it is: a lone ``@path`` is a path, a
    value the typed input can hold is a value, anything else is raw JSON."""
    kind = value_kind(spec)
    if value is None:
        return "value" if kind else "path"
    path = _only(value, "@path")
    if path is not None and "\n" not in path:
        return "path"
    if kind == "object":
        return "value" if _pairs_of(value) is not None else "json"
    if kind and _value_text(spec, kind, value) is not None:
        return "value"
    return "json"


def input_for(spec: FieldDef, value: Any, mode: str | None = None) -> FieldInput:
    """The row showing ``value`` in ``mode`` (by default the mode that fits it); a
    mode that cannot show the value starts empty, except JSON, which shows anything."""
    if mode not in modes_of(spec):
        mode = mode_for(spec, value)
    row = FieldInput(spec, mode)
    row.json = "" if value is None else json.dumps(value)
    kind = value_kind(spec)
    if mode == "path":
        row.path = _only(value, "@path") or ""
    elif mode == "value" and kind == "object":
        row.pairs = _pairs_of(value) or []
    elif mode == "value" and kind:
        shown = _value_text(spec, kind, value)
        if shown is not None:
            row.text, row.checked = shown
    return row


# --- posted inputs -> value ------------------------------------------------------------------


def _scalar(spec: FieldDef, text: str) -> Any:
    """One typed item: a number for number fields, else a string or a template."""
    if spec.type in NUMBER_TYPES:
        try:
            number = json.loads(text)
        except ValueError:
            number = None
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise FieldInputError(f"{text!r} is not a number")
        if spec.type == "INTEGER" and not isinstance(number, int):
            raise FieldInputError(f"{text!r} is not a whole number")
        return number
    return {"@template": text} if _is_template(text) else text


def _pair_value(text: str) -> Any:
    if _looks_like_path(text):
        return {"@path": text}
    return {"@template": text} if _is_template(text) else text


def parse(spec: FieldDef, data: QueryDict, mode: str) -> Any:
    """The mapping value the inputs of ``mode`` hold (None: not mapped)."""
    key = spec.key
    if mode == "path":
        path = data.get("p_" + key, "").strip()
        if not path:
            return None
        if not path.startswith("$"):
            raise FieldInputError(f"a path starts with $, e.g. $.{path}")
        return {"@path": path}
    if mode == "value":
        kind = value_kind(spec)
        if kind == "toggle":
            return data.get("v_" + key) in ("true", "on")
        if kind == "object":
            return _parse_pairs(data.getlist("k_" + key), data.getlist("kv_" + key))
        text = data.get("v_" + key, "").strip()
        if kind == "lines":
            items = [line.strip() for line in text.splitlines() if line.strip()]
            return [_scalar(spec, item) for item in items] or None
        if not text:
            return None
        if kind == "choice":
            if text not in spec.choices:
                raise FieldInputError("choose one of " + ", ".join(spec.choices))
            return text
        return _scalar(spec, text)
    text = data.get("f_" + key, "").strip()
    if not text:
        return None
    try:
        return load_json(text)
    except InvalidArgument as exc:
        hint = (
            '; write strings in double quotes, e.g. "POST", '
            'pick Value to type it as is, or Path for {"@path": "$.userId"}'
            if exc.message.startswith("not valid JSON (")
            else ""
        )
        raise FieldInputError(exc.message + hint) from exc


def _parse_pairs(keys: list[str], values: list[str]) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    for i, key in enumerate(keys):
        name = key.strip()
        text = values[i].strip() if i < len(values) else ""
        if not name:
            if text:
                raise FieldInputError(f"the value {text!r} needs a key")
            continue
        if name in out:
            raise FieldInputError(f"the key {name!r} appears twice")
        out[name] = _pair_value(text)
    return out or None


def posted_mode(spec: FieldDef, data: QueryDict, name: str, default: str = "json") -> str:
    mode = data.get(name, default)
    return mode if mode in modes_of(spec) else "json"


def chosen_and_drawn(spec: FieldDef, data: QueryDict) -> tuple[str, str]:
    """The mode picked and the mode whose inputs the row holds (the same unless the
    mode changed without JS redrawing the row); raw JSON when no mode is posted."""
    chosen = posted_mode(spec, data, "m_" + spec.key)
    return chosen, posted_mode(spec, data, "rm_" + spec.key, chosen)


def posted_input(spec: FieldDef, data: QueryDict) -> FieldInput:
    """The row as posted (to draw it again with its errors), in the mode drawn."""
    mode = chosen_and_drawn(spec, data)[1]
    key = spec.key
    row = FieldInput(spec, mode)
    row.text = data.get("v_" + key, "")
    row.checked = data.get("v_" + key) in ("true", "on")
    row.pairs = [
        (k, v)
        for k, v in zip(data.getlist("k_" + key), data.getlist("kv_" + key), strict=False)
        if k.strip() or v.strip()
    ]
    row.path = data.get("p_" + key, "")
    row.json = data.get("f_" + key, "")
    return row
