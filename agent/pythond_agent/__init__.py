"""The pythond agent: stdlib-only, sent to a bare python3 at bootstrap (see agent/boot.py)."""
