"""The staff page and the sales policy read as people talk (issue 15): the permission matrix says what each
permission allows, in both languages, never its id; a thing's name is 名称, a person's 姓名."""

from __future__ import annotations

import html
import re

from db.staff.permissions import Permission
from tests.helpers import http_client, make_staff, sign_in
from web.labels import PERMISSION


def matrix_rows(page: str) -> list[str]:
    table = re.search(r'<table class="matrix">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    return [html.unescape(cell) for cell in re.findall(r"<tr><td>(.*?)</td>", table)]


async def test_the_permission_matrix_says_what_each_permission_allows_in_both_languages():
    assert set(PERMISSION) == set(Permission)  # a new permission needs its words here
    await make_staff("admin", "liuyang")
    async with http_client() as client:
        await sign_in(client, "liuyang")
        chinese = (await client.get("/staff")).text
        client.cookies.set("lang", "en")
        english = (await client.get("/staff")).text
    rows_zh, rows_en = matrix_rows(chinese), matrix_rows(english)
    assert len(rows_zh) == len(rows_en) == len(Permission)
    assert "在窗口售票并收款" in rows_zh and "Sell tickets at the window and take payment" in rows_en
    ids = {p.value for p in Permission}
    assert not ids & set(rows_zh) and not ids & set(rows_en) and "<code>" not in chinese.split("matrix")[1]
    assert "<th>姓名</th><th>角色</th>" in chinese  # the staff member's name


async def test_a_concession_kind_has_a_name_and_a_buyer_a_full_name():
    await make_staff("supervisor", "zhangwei")
    async with http_client() as client:
        await sign_in(client, "zhangwei")
        policy = (await client.get("/sales/policy")).text
    concessions = policy[policy.index('id="concessions"') :]
    assert "<th>代码</th><th>名称</th>" in concessions and "姓名" not in concessions
    assert "<th>姓名</th>" in policy[policy.index('id="buyer-details"') : policy.index('id="tiers"')]
