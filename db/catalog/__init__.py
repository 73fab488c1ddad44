"""Venues, seat maps, gates, events, sessions and prices (R3.1, R3.2)."""
