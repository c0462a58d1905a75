"""The sample event the test panels start from."""

from __future__ import annotations

import json

SAMPLE_EVENT = {
    "type": "track",
    "event": "Order Completed",
    "userId": "user-1234",
    "anonymousId": "507f191e810c19729de860ea",
    "messageId": "ajs-next-1e6e9d1c7f4a4e2b",
    "timestamp": "2024-05-14T10:12:31.000Z",
    "properties": {
        "order_id": "50314b8e9bcf000000000000",
        "revenue": 25.0,
        "currency": "USD",
        "email": "jane.doe@example.com",
        "products": [{"product_id": "507f1f77bcf86cd799439011", "name": "Monopoly", "price": 19}],
    },
    "context": {
        "ip": "8.8.8.8",
        "library": {"name": "analytics.js", "version": "next-1.53.0"},
        "page": {"url": "https://example.com/checkout", "path": "/checkout", "title": "Checkout"},
        "userAgent": "Mozilla/5.0 (X11; Linux x86_64)",
    },
}


def sample_event_json() -> str:
    return json.dumps(SAMPLE_EVENT, indent=2)
