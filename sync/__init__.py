"""The phone ↔ server protocol (docs/SYNC_PROTOCOL.md): batched pushes through the domain functions,
and the pull change feed."""
