"""The interface every warehouse connector implements.

A connector talks to one warehouse with one set of credentials. It checks the
connection (the setup guide's permission checks), previews a model's query,
and runs the extract/diff engine: each row's identifier and a hash of the row,
compared with the last committed snapshot, either in a bookkeeping schema of
the warehouse (``WAREHOUSE``) or, for a user who may only read, in Switchyard's
own database (``SWITCHYARD``: the pairs are streamed out of the warehouse).
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Change = Literal["added", "updated", "deleted"]
CHANGES: tuple[Change, ...] = ("added", "updated", "deleted")
Bookkeeping = Literal["WAREHOUSE", "SWITCHYARD"]


class WarehouseError(Exception):
    """The warehouse refused or failed; ``message`` is meant for the user."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class QueryError(WarehouseError):
    """The model's SQL failed (syntax, permissions, timeout): the user's to fix."""


class BookkeepingUnavailable(WarehouseError):
    """The warehouse user cannot create or write the bookkeeping schema."""


class StaleExtract(WarehouseError):
    """A commit named an extract that a newer extract (or a reset) replaced."""


@dataclass(frozen=True)
class ConnectionSettings:
    host: str = ""
    port: int = 5432
    database: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    dsn: str = field(default="", repr=False)
    ssl_mode: str = "prefer"


@dataclass(frozen=True)
class BookkeepingOptions:
    """Where a source's snapshots live. ``mode`` is the source's recorded choice
    (None: not decided yet; the first extract decides, calling ``on_decided``);
    ``local_dsn`` is Switchyard's own database (libpq conninfo), used for
    ``SWITCHYARD`` bookkeeping ("" when unavailable)."""

    mode: Bookkeeping | None = None
    local_dsn: str = field(default="", repr=False)
    on_decided: Callable[[Bookkeeping], None] | None = None


@dataclass(frozen=True)
class Check:
    name: str  # "connect", "read", "bookkeeping"
    passed: bool
    detail: str


@dataclass(frozen=True)
class ConnectionReport:
    checks: tuple[Check, ...]
    bookkeeping: Bookkeeping  # where this source's snapshots live

    @property
    def ok(self) -> bool:
        """Syncs can run: connected and can read (bookkeeping has a fallback)."""
        return all(c.passed for c in self.checks if c.name != "bookkeeping")


@dataclass(frozen=True)
class Preview:
    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    identifier_unique: bool  # among the preview rows
    identifier_nulls: int  # preview rows whose identifier is null
    limited: bool  # more rows exist than the preview shows


@dataclass(frozen=True)
class ExtractResult:
    extract_id: str  # what changes() and commit_snapshot() must name
    extracted: int  # rows the query returned
    added: int
    updated: int
    deleted: int
    duplicates: int  # rows dropped: their identifier repeats (ErrRecordDuplicate)
    null_ids: int  # rows dropped: null identifier (ErrRecordNullUniqueID)


@dataclass(frozen=True)
class Record:
    id: str
    change: Change
    row: dict[str, Any] | None  # None for a deleted record


class Warehouse(abc.ABC):
    def __init__(
        self, settings: ConnectionSettings, bookkeeping: BookkeepingOptions | None = None
    ) -> None:
        self.settings = settings
        self.bookkeeping = bookkeeping or BookkeepingOptions()

    @abc.abstractmethod
    def test_connection(self) -> ConnectionReport: ...

    @abc.abstractmethod
    def columns(self, query: str, *, timeout_s: float) -> tuple[str, ...]:
        """The query's result columns; runs it read-only without fetching rows."""

    @abc.abstractmethod
    def preview(self, query: str, identifier: str, *, limit: int, timeout_s: float) -> Preview: ...

    @abc.abstractmethod
    def extract(self, key: str, query: str, identifier: str, *, timeout_s: float) -> ExtractResult:
        """Hash the model's rows and diff them with the snapshot of ``key`` (one model
        or mapping) where its bookkeeping lives, replacing the previous extract of
        ``key``."""

    @abc.abstractmethod
    def changes(self, key: str, extract_id: str, *, after: str | None, limit: int) -> list[Record]:
        """A page of the extract's uncommitted changes, ordered by identifier."""

    @abc.abstractmethod
    def commit_snapshot(self, key: str, extract_id: str, ids: list[str]) -> int:
        """Advance the snapshot for the delivered ``ids`` only; returns how many."""

    @abc.abstractmethod
    def discard_extract(self, key: str, extract_id: str) -> None:
        """Drop the rows of a finished run's extract (if it is still the latest), so
        they do not sit in the warehouse until the next run replaces them."""

    @abc.abstractmethod
    def reset(self, key: str) -> None:
        """Forget the snapshot: every row is added at the next extract."""
