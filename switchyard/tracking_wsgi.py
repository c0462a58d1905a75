"""WSGI entry point of the Tracking API alone, so ingest scales on its own hosts
and ports: ``gunicorn switchyard.tracking_wsgi -b 0.0.0.0:8001``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "switchyard.tracking_settings"
application = get_wsgi_application()
