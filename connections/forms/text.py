"""Textarea conventions of the forms: one entry per line, ``key=value`` maps."""

from __future__ import annotations

from typing import Any


def nonblank_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def map_text(value: Any) -> str:
    if isinstance(value, dict):
        return "\n".join(f"{k}={v}" for k, v in value.items())
    return ""
