"""Forms of the Reverse ETL pages; the services check every value again."""
