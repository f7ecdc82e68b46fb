"""操作记录: the audit log of one record, read back in the caller's scope."""
