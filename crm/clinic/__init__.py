"""The clinic's own data: its branches and opening hours, the consent wording, the seed and
the demo data."""
