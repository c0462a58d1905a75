"""``manage.py run``: the whole system in one terminal (web, worker, beat).

With ``DATABASE_URL`` / ``REDIS_URL`` unset the private PostgreSQL and Redis
under ``var/`` are already up (settings start them) and are stopped again on
Ctrl-C; with them set, nothing embedded is started or stopped.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from switchyard import embedded

STOP_GRACE_SECONDS = 20


def site_url(host: str, port: int) -> str:
    """The address links in emails use when SITE_URL is unset: the one served here
    (a wildcard bind is reached on the loopback address from this machine)."""
    reachable = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host  # noqa: S104
    if ":" in reachable:
        reachable = f"[{reachable}]"
    return f"http://{reachable}:{port}"


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and Celery beat until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")

    def handle(self, *args: Any, **options: Any) -> None:
        embedded_db, embedded_redis = settings.EMBEDDED_DATABASE, settings.EMBEDDED_REDIS
        database_url = embedded.ensure_postgres().url if embedded_db else settings.DATABASE_URL
        redis_url = embedded.ensure_redis().url if embedded_redis else settings.REDIS_URL
        call_command("migrate", interactive=False, verbosity=0)
        self._first_login()

        # The children get the services' addresses and so never start them.
        env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
        env.setdefault("SITE_URL", site_url(options["host"], options["port"]))
        python = sys.executable
        address = f"{options['host']}:{options['port']}"
        commands = {
            "web": [
                python, "-m", "gunicorn", "switchyard.wsgi", "--bind", address,
                "--workers", str(options["web_workers"]), "--access-logfile", "-",
                # The control socket is one fixed path per OS user; two stacks would share it.
                "--no-control-socket",
            ],
            "worker": [
                python, "-m", "celery", "-A", "switchyard", "worker", "--loglevel", "INFO",
                "--concurrency", str(options["concurrency"]), "--queues", "default",
            ],
            "beat": [
                python, "-m", "celery", "-A", "switchyard", "beat", "--loglevel", "INFO",
                "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler",
            ],
        }  # fmt: skip
        # Own sessions: Ctrl-C reaches only this process, which then stops the
        # children in order instead of all of them racing at once.
        children = {
            name: subprocess.Popen(cmd, env=env, start_new_session=True)
            for name, cmd in commands.items()
        }
        self.stdout.write(self.style.SUCCESS(f"Switchyard is running at http://{address}/"))
        self.stdout.write("Press Ctrl-C to stop.")

        stopping = False

        def request_stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        exit_code = 0
        while not stopping:
            dead = [name for name, proc in children.items() if proc.poll() is not None]
            if dead:
                self.stderr.write(f"{', '.join(dead)} exited; stopping everything")
                exit_code = 1
                break
            time.sleep(0.2)

        self.stdout.write("Stopping…")
        for proc in children.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for proc in children.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        from django.db import connections

        connections.close_all()
        if embedded_redis:
            embedded.stop_redis()
        if embedded_db:
            embedded.stop_postgres()
        self.stdout.write("Stopped.")
        if exit_code:
            sys.exit(exit_code)

    def _first_login(self) -> None:
        users = get_user_model()._default_manager
        if users.filter(is_superuser=True).exists():
            self.stdout.write("Sign in with your existing account.")
            return
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "admin")
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD") or secrets.token_urlsafe(12)
        email = os.environ.get("DJANGO_SUPERUSER_EMAIL", "")
        users.create_superuser(username=username, email=email, password=password)
        self.stdout.write(
            self.style.SUCCESS(f"First login: username {username!r}, password {password!r}")
        )
        self.stdout.write("Change it after signing in (Django admin > Users).")
