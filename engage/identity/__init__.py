"""Identity resolution without Django: the default identifier types and where
messages carry them, extraction, blocked values and the matching decision."""
