"""Shared pieces every domain package uses: domain errors, the clock."""
