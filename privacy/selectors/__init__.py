"""The privacy app's reads for its UI and API, by subject: ``matchers`` (the
effective matchers and the Detection page's entries), ``fields`` (the Inbox, the
Inventory, its details and CSV) and ``controls`` (each source's controls and
blocked counts)."""
