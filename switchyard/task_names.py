"""The kernel's task names (each app names its own in ``<app>/task_names.py``).

The ``@task`` decorators register under these, and code that must not import the
tasks module (the data plane queueing work through ``app.send_task``) sends by them.

The names are stored in django-celery-beat rows and in messages already queued, so they
never change. The beat-schedule migrations spell them out (a migration is a snapshot and
imports no live code); tests/switchyard/test_celery.py checks that every scheduled name
is a registered task and every registered task is named in its app's module.
"""

from __future__ import annotations

from typing import Final

PING: Final = "switchyard.ping"
