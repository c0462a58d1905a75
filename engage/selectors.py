"""Reads for the engage UI and API."""
