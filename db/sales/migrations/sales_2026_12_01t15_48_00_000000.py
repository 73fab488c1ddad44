"""Buyer details policy (issue 15, R1.1): one version per (event kind, channel, version), and its first versions:
a walk-in attraction buyer at the window or an outlet gives nothing (a printed ticket); every other sale keeps
asking for name and phone, as before (no row)."""

import datetime as dt

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T15:48:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "buyer details policy: unique versions, first versions"

INDEX = (
    "CREATE UNIQUE INDEX IF NOT EXISTS sales_buyer_policy_version ON sales_buyer_policy (event_kind, channel, version)"
)
FIRST = (("attraction", "box_office", ""), ("attraction", "outlet", ""))


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sales", description=DESCRIPTION)

    async def run():
        from db.sales.tables import BuyerDetailsPolicy

        await BuyerDetailsPolicy.raw(INDEX).run()
        now = dt.datetime.now(dt.UTC)
        for kind, channel, details in FIRST:
            if not await BuyerDetailsPolicy.exists().where(
                (BuyerDetailsPolicy.event_kind == kind) & (BuyerDetailsPolicy.channel == channel)
            ):
                await BuyerDetailsPolicy.insert(
                    BuyerDetailsPolicy(
                        event_kind=kind,
                        channel=channel,
                        details=details,
                        version=1,
                        created_at=now,
                        created_by="",
                    )
                )

    manager.add_raw(run)
    return manager
