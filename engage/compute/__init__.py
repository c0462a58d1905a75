"""Engage compute: audience and computed-trait definitions compiled to SQL.

``sql.audience_members`` and ``sql.trait_values`` turn a validated definition
(engage.md §12.2's JSON) into one parameterised PostgreSQL query;
``values`` holds the comparison operators. No Django models are written here:
callers run the query and store what it returns.
"""
