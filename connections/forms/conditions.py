"""The condition builder shared by the mapping's trigger and the destination
filter's "If": rows of conditions combined with ALL or ANY make the FQL, and a raw
FQL box is the advanced mode (when filled it wins). One parser, one partial
(templates/connections/_condition_builder.html), for both editors."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict

from connections.rules import MATCHES, Condition, TriggerError, to_fql, triggers


def conditions_from_post(data: QueryDict) -> list[Condition]:
    fields = data.getlist("cond_field")
    ops = data.getlist("cond_op")
    paths = data.getlist("cond_path")
    values = data.getlist("cond_value")
    out = []
    for i, field in enumerate(fields):
        out.append(
            Condition(
                field=field,
                operator=ops[i] if i < len(ops) else "is",
                value=values[i] if i < len(values) else "",
                path=paths[i] if i < len(paths) else "",
            )
        )
    return out


def builder_initial(expression: str) -> tuple[str, str, list[Condition]]:
    """``(match, raw FQL, rows)`` to show ``expression``: as builder rows when the
    builder writes exactly that expression, else as raw FQL."""
    parsed = triggers.from_fql(expression) if expression else None
    if parsed is None:
        return "all", expression, []
    match, rows = parsed
    return match, "", rows


class ConditionBuilderForm(forms.Form):
    """A form with the builder: ``match`` (ALL or ANY), the rows (``cond_*`` lists)
    and a raw FQL field, named ``raw_field`` by the subclass, which declares it."""

    match = forms.ChoiceField(
        label="Match", choices=list(MATCHES.items()), initial="all", required=False
    )
    raw_field: str

    def __init__(
        self,
        data: QueryDict | None = None,
        *,
        initial: dict[str, Any] | None = None,
        conditions: list[Condition] | None = None,
    ) -> None:
        super().__init__(data, initial=initial)
        self.posted = QueryDict() if data is None else data
        self.conditions = list(conditions or []) if data is None else conditions_from_post(data)
        self.generated_fql = ""

    def condition_rows(self) -> list[Condition]:
        """The builder rows to show: those given, or one blank row."""
        shown = [c for c in self.conditions if not c.blank]
        return shown or [Condition("type", "is", "")]

    def condition_expression(self, cleaned: dict[str, Any]) -> str | None:
        """The raw FQL when given, else the builder's; None (with the error added
        at the raw field) when the rows make no expression."""
        raw = (cleaned.get(self.raw_field) or "").strip()
        if raw:
            return raw
        try:
            self.generated_fql = to_fql(self.conditions, cleaned.get("match") or "all")
        except TriggerError as exc:
            self.add_error(self.raw_field, exc.message)
            return None
        return self.generated_fql
