"""The lead domain: intake, workflow, scoped queries and export writers. No request objects here."""
