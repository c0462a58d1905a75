"""Delivery of stored events to destinations: the engine (``engine``), the
performers of each destination's actions (``actions``), outbound HTTP with the
SSRF guard (``http``) and outcomes, error codes and retry timing (``outcomes``).
Entry points for tasks and views are in ``connections.services.delivery``."""
