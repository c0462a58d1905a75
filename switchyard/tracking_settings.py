"""Settings of the tracking-only server (switchyard.tracking_wsgi).

Everything comes from the main settings (the same environment variables, the
same database and broker); only the request path is slimmed: the Tracking API's
routes alone, and no session, CSRF, auth or message middleware (its views read
no cookies and are CSRF-exempt; the write key is the credential). The installed
apps stay as they are: the models the Tracking API touches relate to theirs.

    DJANGO_SETTINGS_MODULE=switchyard.tracking_settings \
        gunicorn switchyard.tracking_wsgi -b 0.0.0.0:8001 -w 4
"""

from switchyard.settings import *  # noqa: F403

# The tracking app's own URLconf, named by path: the kernel imports no app.
ROOT_URLCONF = "connections.dataplane.tracking.service_urls"
WSGI_APPLICATION = "switchyard.tracking_wsgi.application"
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware"]
