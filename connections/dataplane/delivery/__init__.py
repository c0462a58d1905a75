"""Delivery of stored events to destinations, one module per job: ``claims``
(claim outbox batches and load their events), ``compiled`` (destinations
compiled once per worker), ``deliver`` (a batch through filters, triggers and
mappings), ``records`` (outcomes to Delivery rows and counters), ``retries``
(due retries sent again), ``sweep`` (lost batches and due retries queued
again, old records pruned); ``actions`` (one performer per destination
action), ``http`` (outbound HTTP with the SSRF guard), ``outcomes`` (error
codes) and ``backoff`` (when to try again). ``tester`` is the Event Tester.
The Celery tasks in ``connections.tasks`` call ``deliver``, ``retries`` and
``sweep``."""
