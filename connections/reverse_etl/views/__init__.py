"""Connections > Reverse ETL pages: sources, models, mappings, the sync overview and
history. Thin views over ``connections.reverse_etl.services`` (which check every
permission); write controls show only to those the services would let through."""
