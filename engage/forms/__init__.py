"""UI forms of the engage app, by subject."""
