"""The app factory: `litestar --app web.app:create_app run`."""

from __future__ import annotations

import gc
import os
from functools import partial

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

from db.core.engine import ROOT, close_engine
from db.core.transaction import enable_wal
from web import admin, aftersale, catalog, finance, gate, health, inventory, jobs, reports, sales, sessionchange, shop
from web.auditlog import controller as auditlog
from web.auth import SessionMiddleware
from web.errors import EXCEPTION_HANDLERS
from web.forms import checked_request
from web.gate import api as checkin
from web.headers import SecurityHeadersMiddleware
from web.menu import MENU
from web.sales import partner_api as partner
from web.sales import partner_exchanges, partner_refunds, payments
from web.settings import COOKIE_SECURE, secret_key
from web.staff import controller as staff
from web.templating import configure

AREAS = [
    health,
    staff,
    catalog,
    auditlog,
    admin,
    checkin,
    partner,
    partner_refunds,
    partner_exchanges,
    payments,
    gate,
    shop,
    sales,
    aftersale,
    sessionchange,
    reports,
    inventory,
    finance,
]

VENDOR = {
    "htmx": "node_modules/htmx.org/dist",
    "htmx-sse": "node_modules/htmx-ext-sse/dist",
    "pico": "node_modules/@picocss/pico/css",
    "chartjs": "node_modules/chart.js/dist",
    "zxing-wasm": "node_modules/zxing-wasm/dist",
}


async def _skip_session_reset(connection) -> None:
    """Pooled connections go back without asyncpg's RESET ALL / UNLISTEN round trip: the app keeps no
    session state on them (asyncpg still rolls back any transaction left open before calling this)."""


async def open_database() -> None:
    engine = engine_finder()
    if isinstance(engine, PostgresEngine):
        # Every connection opened now: the first seconds of an on-sale rush must not wait for new connections.
        size = int(os.environ.get("DB_POOL_SIZE", "10"))
        await engine.start_connection_pool(min_size=size, max_size=size, reset=_skip_session_reset)
    else:
        await enable_wal()


async def close_database() -> None:
    await close_engine(engine_finder())


def freeze_startup_objects() -> None:
    """Move everything alive after start-up (modules, routes, templates, the pool) out of the garbage
    collector's reach: a full collection then walks only what requests create, instead of pausing a busy
    worker for 25-55 ms (measured under the redeem benchmark) several times a second. The price: start-up
    objects that later become cyclic garbage (few; e.g. pool connections replaced after a database restart)
    are never collected."""
    gc.collect()
    gc.freeze()


def static_routers() -> list:
    routers = [
        create_static_files_router(path="/static", directories=[ROOT / "static"], name="static", opt={"public": True})
    ]
    for name, folder in VENDOR.items():
        routers.append(
            create_static_files_router(
                path=f"/vendor/{name}",
                directories=[ROOT / folder],
                name=f"vendor-{name}",
                opt={"public": True},
                include_in_schema=False,
            )
        )
    return routers


def create_app() -> Litestar:
    handlers = [handler for area in AREAS for handler in area.ROUTES]
    return Litestar(
        route_handlers=[*handlers, *static_routers()],
        middleware=[SecurityHeadersMiddleware(), SessionMiddleware()],
        plugins=[HTMXPlugin()],
        csrf_config=CSRFConfig(
            secret=secret_key(),
            cookie_secure=COOKIE_SECURE,
            cookie_samesite="lax",
            exclude=["/api/", "^/pay/sandbox/refunds$"],  # server-to-server: signed, no cookies
        ),
        template_config=TemplateConfig(
            directory=ROOT / "templates", engine=JinjaTemplateEngine, engine_callback=partial(configure, menu=MENU)
        ),
        openapi_config=OpenAPIConfig(title="Ticket Center API", version="1.0.0", path="/schema"),
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=checked_request,
        on_startup=[open_database, jobs.start, freeze_startup_objects],
        on_shutdown=[jobs.stop, close_database],
        logging_config=LoggingConfig(
            root={"level": "INFO", "handlers": ["queue_listener"]},
            log_exceptions="debug",
        ),
        debug=False,
    )
