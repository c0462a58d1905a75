"""Reverse ETL (issue 16): warehouse sources, SQL models and their extract/diff engine.

A Django app of its own (label ``reverse_etl``) inside connections; README.md has the layout.
"""
