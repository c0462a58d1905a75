"""The data plane: what moves events, without a principal. The Tracking API
(``tracking``) validates requests and ``ingest`` stores them in one statement
with the delivery outbox; ``event_store`` keeps the day partitions; ``counters``
are the per-minute pipeline counts; ``delivery`` drains the outbox to
destinations through ``connections.rules``; ``observers`` is the hook through
which a higher layer (privacy detection) reads each batch's events once, on its
first delivery claim, after the ingest commit.

Services (``connections.services``) may call in here; nothing here imports a
service."""
