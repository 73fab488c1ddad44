"""`python -m db.backup make | list | verify FILE | restore FILE` (db/ops/backup.py does the work)."""
