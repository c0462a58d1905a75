"""``/healthz``: is the database up, the broker reachable and a worker listening?"""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse

from switchyard.celery import app


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # any failure is the answer, not an error
        return f"error: {exc.__class__.__name__}"


def _broker() -> str:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"


def _worker() -> str:
    try:
        replies = app.control.ping(timeout=1.0)
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"
    return "ok" if replies else "no worker answered"


def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database(), "broker": _broker()}
    checks["worker"] = _worker() if checks["broker"] == "ok" else "unknown: broker down"
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", **checks}, status=200 if healthy else 503
    )
