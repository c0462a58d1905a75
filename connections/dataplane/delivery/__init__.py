"""Delivery of stored events to destinations: the engine (``engine``), the
performers of each destination's actions (``actions``), outbound HTTP with the
SSRF guard (``http``), outcomes, error codes and retry timing (``outcomes``),
destinations compiled for the rules (``compiled``) and the Event Tester
(``tester``). The Celery tasks in ``connections.tasks`` call the engine."""
