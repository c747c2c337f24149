"""Consent Ledger HTTP API (FastAPI): routes per actor over the ``ledger`` library."""
