"""Settings for a Celery worker started by a test: the project's settings on the
test database (pytest-django's, named in SWITCHYARD_TEST_DATABASE), so that the
worker sees what a transactional test committed."""

import os

from switchyard.settings import *  # noqa: F403
from switchyard.settings import DATABASES

DATABASES["default"]["NAME"] = os.environ["SWITCHYARD_TEST_DATABASE"]
