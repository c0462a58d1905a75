"""Fixtures shared by the benchmarks."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bench.engage_bench_data import BenchData, ensure_data


@pytest.fixture(scope="session")
def engage_bench_data(django_db_setup: Any, django_db_blocker: Any) -> BenchData:
    """1,000,000 profiles and 10,000,000 attached events in one space, committed
    (kept with ``--reuse-db``: see tests/bench/engage_bench_data.py)."""
    with django_db_blocker.unblock():
        return ensure_data()
