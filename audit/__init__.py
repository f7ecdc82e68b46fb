"""The append-only audit log: who did what, when, from which device."""
