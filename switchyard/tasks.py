from __future__ import annotations

from switchyard.celery import task


@task("switchyard.ping")
def ping(value: str = "pong") -> str:
    """Proves the broker, a worker and the result backend are wired together."""
    return value
