from connections.models.sources import Source, SourceLabel

__all__ = ["Source", "SourceLabel"]
