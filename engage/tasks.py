"""The engage app's Celery tasks (entry points only: they take ids and call services)."""
