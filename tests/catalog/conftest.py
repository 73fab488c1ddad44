import pytest

from tests.helpers import http_client, make_staff, sign_in


@pytest.fixture
async def supervisor():
    """A signed-in supervisor (catalog, prices, audit log)."""
    await make_staff("supervisor", "zhangwei")
    async with http_client() as client:
        await sign_in(client, "zhangwei")
        yield client


@pytest.fixture
async def seller():
    """A signed-in seller: may view the catalog, not change it."""
    await make_staff("seller", "lina")
    async with http_client() as client:
        await sign_in(client, "lina")
        yield client
