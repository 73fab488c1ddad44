"""Demo staff: one account per role. The password of each is DEMO_PASSWORD (documented in README.md)."""

from db.core.actor import Actor
from db.staff.accounts import create_staff
from db.staff.permissions import Role
from db.staff.tables import StaffUser

DEMO_PASSWORD = "Demo-2026!"

DEMO_STAFF = [
    ("zhangwei", "张伟", Role.SUPERVISOR),
    ("lina", "李娜", Role.SELLER),
    ("wangfang", "王芳", Role.AUDITOR),
    ("liuyang", "刘洋", Role.ADMIN),
    ("chenjie", "陈杰", Role.GATE),
]


async def load(actor: Actor) -> None:
    for username, name, role in DEMO_STAFF:
        if not await StaffUser.exists().where(StaffUser.username == username):
            await create_staff(actor, username, name, role.value, DEMO_PASSWORD)
