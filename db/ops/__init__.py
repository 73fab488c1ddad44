"""Keeping the system running (R2.2 system administrator, R6.3, R9.2): backups and their verification."""
