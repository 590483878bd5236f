"""Storage: SQLAlchemy 2.0 models, engine/session set-up, purpose-named queries."""
