import os

from piccolo.conf.apps import AppConfig

from db.catalog.tables import (
    Event,
    EventSession,
    Gate,
    PriceChange,
    PriceClass,
    Seat,
    SessionGate,
    SessionSeat,
    Venue,
)

APP_CONFIG = AppConfig(
    app_name="catalog",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[Venue, Seat, Gate, Event, EventSession, SessionGate, PriceClass, PriceChange, SessionSeat],
    migration_dependencies=["db.staff.piccolo_app"],
    commands=[],
)
