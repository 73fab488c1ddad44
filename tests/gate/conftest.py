import pytest

from db.gate.devices import forget_cached


@pytest.fixture(autouse=True)
def fresh_gate_caches():
    """Tables are emptied before each test, so gate and device ids cached by a previous test are stale."""
    forget_cached()
    yield
    forget_cached()
