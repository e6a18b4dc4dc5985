"""SQLAlchemy adapter: tables, engine set-up, repositories, unit of work and migrations."""
