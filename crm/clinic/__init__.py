"""The clinic's own data: its branches and opening hours, the consent wording, and the seed."""
