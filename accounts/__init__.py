"""Users, roles, devices and bearer tokens (SYNC_PROTOCOL.md §1), and the visibility scope of a user."""
