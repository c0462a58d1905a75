"""The embedded Redis: started once however many processes ask, stopped cleanly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from switchyard import embedded

pytestmark = pytest.mark.slow


def redis_servers(sock: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        alive = proc.info["status"] != psutil.STATUS_ZOMBIE
        if "redis-server" in cmdline and str(sock) in cmdline and alive:
            found.append(proc)
    return found


def test_concurrent_starts_make_one_server_and_stop_leaves_none(tmp_path: Path) -> None:
    root = tmp_path / "var"
    root.mkdir()
    code = (
        "import pathlib; from switchyard import embedded; "
        f"embedded.ensure_redis(pathlib.Path({str(root)!r}))"
    )
    starters = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(4)]
    assert [p.wait(timeout=60) for p in starters] == [0, 0, 0, 0]
    sock = root / "redis" / "redis.sock"
    try:
        assert len(redis_servers(sock)) == 1
    finally:
        embedded.stop_redis(root)
    assert redis_servers(sock) == []


def test_building_the_cache_starts_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHYARD_VAR_DIR", str(tmp_path))
    cache = embedded.EmbeddedRedisCache(embedded.redis_url(tmp_path), {})
    sock = tmp_path / "redis" / "redis.sock"
    assert not sock.exists()
    try:
        cache.set("k", "v")  # first use starts it
        assert cache.get("k") == "v"
        assert len(redis_servers(sock)) == 1
    finally:
        embedded.stop_redis(tmp_path)
