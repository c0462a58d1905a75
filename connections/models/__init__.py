from connections.models.delivery import Delivery, DeliveryProgress
from connections.models.destinations import Destination, DestinationFilter, Subscription
from connections.models.events import DeliveryBatch, Event, EventMessage, PipelineCount
from connections.models.sources import Source, SourceGrant, SourceLabel, WriteKey

__all__ = [
    "Delivery",
    "DeliveryBatch",
    "DeliveryProgress",
    "Destination",
    "DestinationFilter",
    "Event",
    "EventMessage",
    "PipelineCount",
    "Source",
    "SourceGrant",
    "SourceLabel",
    "Subscription",
    "WriteKey",
]
