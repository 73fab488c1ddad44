"""Short ticket numbers (issue 15): the column ticket.short_code (its unique index and the numbers of earlier
tickets follow in the next migration: Piccolo runs a migration's raw steps before its columns)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-01T12:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "ticket.short_code (the typeable ticket number)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sales", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Ticket",
        tablename="ticket",
        column_name="short_code",
        db_column_name="short_code",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 11,
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
