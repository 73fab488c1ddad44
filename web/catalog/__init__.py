"""The catalog area (R3.1, R3.2): venues with seat plans and gates, events, sessions and their prices."""

from db.staff.permissions import Permission
from web.catalog import events, sessions, venues

ROUTES = [*venues.ROUTES, *events.ROUTES, *sessions.ROUTES]

NAV = [
    (Permission.CATALOG_VIEW, "/catalog/events", "Events & sessions"),
    (Permission.CATALOG_VIEW, "/catalog/venues", "Venues"),
]
