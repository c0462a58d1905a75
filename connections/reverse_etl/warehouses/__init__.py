"""Warehouse connectors: ``base.Warehouse`` (the interface), ``postgres`` (implemented)
and ``catalog`` (the documented warehouses, unimplemented ones marked)."""
