"""Names of the privacy app's Celery tasks (stored in queued messages: never rename).

None yet: detection, the Inbox and regulations will add theirs here.
"""
