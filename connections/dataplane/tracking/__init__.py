"""The Tracking API (Segment's HTTP API): validation, write keys, views, routes.

Storage is connections.dataplane.ingest. Served by the main site and, to scale
ingest on its own, by switchyard.tracking_wsgi (settings: switchyard.tracking_settings).
"""
