"""Alembic migrations of the platform database (run by `mec-platform migrate` and at start)."""
