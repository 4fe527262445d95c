"""The supervisors' reports: figures aggregated in PostgreSQL, their tables and charts."""
