"""The hub's domain model: pure pydantic types, no I/O. Safe to import from workflow code."""
