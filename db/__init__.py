"""SQLAlchemy base, engine and session factory, and small SQL helpers shared by the domain packages."""
