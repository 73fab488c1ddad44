from litestar import get

from db.core.engine import engine_name
from db.migrate import pending_migrations
from db.staff.tables import StaffUser
from web.auth import PUBLIC


@get("/healthz", opt=PUBLIC)
async def healthz() -> dict:
    """Liveness for load balancers and checks: the engine, and whether all migrations have run."""
    pending = await pending_migrations()
    return {
        "status": "ok",
        "database": engine_name(StaffUser._meta.db),
        "migrations_current": pending == 0,
        "pending_migrations": pending,
    }


ROUTES = [healthz]
