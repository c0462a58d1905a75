from connections.reverse_etl.models.queries import RetlModel
from connections.reverse_etl.models.sources import RetlSource

__all__ = ["RetlModel", "RetlSource"]
