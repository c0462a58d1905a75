"""Names of the engage app's Celery tasks (stored in queued messages: never rename)."""
