"""Enforcement documents (执法文书): generated from the records as PDF, numbered, immutable, verifiable."""
