"""Who is doing something: passed to every operation so the audit log can say who, when and what."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int | None
    name: str
    role: str = ""

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(user_id=None, name=name, role="system")

    @classmethod
    def customer(cls, client: str) -> Actor:
        """The anonymous shop customer behind a client pseudonym, as audit entries and order history name it."""
        return cls(user_id=None, name=f"shop:{client}", role="customer")
