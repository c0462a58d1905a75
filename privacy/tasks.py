"""The privacy app's Celery tasks (none yet; see task_names.py)."""
