"""The shared API kit: resource names, update masks, page tokens, errors, auth."""
