"""Admission at the gates: scans, entries and exits, offline journals (the gate issue, R9.2)."""
