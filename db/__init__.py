"""The heart of Ticket Center: Piccolo tables, migrations and the operations that change state."""
