"""A supervisor reveals one wish's original (the sealed description) on purpose to judge it; the
reveal is logged (who, when, which wish); agents get 403; the original never reaches list pages,
the reveal log or the application log."""

from __future__ import annotations

import logging

from sqlalchemy import select

from bot.console.models import PiiRevealLog
from bot.core import db, wishes
from tests.console.conftest import NOW, login
from tests.console.test_staff_pages import submit_wish

ORIGINAL = "我叫王建国，电话13812345678，腿脚不便，想要一台轮椅。"


def reveals(engine):
    with db.session_scope(engine) as s:
        return [
            (r.agent, r.field, r.subject, r.created_at)
            for r in s.execute(select(PiiRevealLog).order_by(PiiRevealLog.id)).scalars()
        ]


async def test_supervisor_reveals_the_original_and_the_reveal_is_logged(
    client, accounts, engine, caplog
):
    caplog.set_level(logging.DEBUG)
    wish_id = submit_wish(engine, text=ORIGINAL)
    token = await login(client, "sup")
    page = await (await client.get(f"/wishes/{wish_id}")).text()
    assert 'id="btn-reveal"' in page and "13812345678" not in page and "王建国" not in page
    assert reveals(engine) == []  # opening the wish reveals nothing

    resp = await client.post(f"/wishes/{wish_id}/reveal", data={"_csrf": token})
    assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
    html = await resp.text()
    original = html.split('id="original-text">', 1)[1].split("</div>", 1)[0]
    assert original == ORIGINAL
    assert reveals(engine) == [("sup", "wish_text", f"wish:{wish_id}", NOW)]

    # the moderator can now judge: approving keeps the masked public text
    resp = await client.post(
        f"/wishes/{wish_id}/approve", data={"_csrf": token}, allow_redirects=False
    )
    assert resp.status == 302
    with db.session_scope(engine) as s:
        wish = s.get(wishes.Wish, wish_id)
        assert wish.status == wishes.APPROVED and "13812345678" not in wish.public_text

    # never on list pages, the reveal log or in the application log
    for path in ("/wishes?status=approved", f"/wishes/{wish_id}", "/pii/log"):
        body = await (await client.get(path)).text()
        assert "13812345678" not in body and "王建国" not in body, path
    log_page = await (await client.get("/pii/log")).text()
    assert "心愿原文" in log_page and f'href="/wishes/{wish_id}"' in log_page
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"wish {wish_id}: original revealed by sup" in logged
    assert "13812345678" not in logged and "轮椅" not in logged


async def test_agents_cannot_reveal(client, accounts, engine):
    wish_id = submit_wish(engine, text=ORIGINAL)
    token = await login(client, "agent1")
    page = await (await client.get(f"/wishes/{wish_id}")).text()
    assert 'id="btn-reveal"' not in page and 'id="reveal-hint"' in page
    resp = await client.post(f"/wishes/{wish_id}/reveal", data={"_csrf": token})
    assert resp.status == 403
    assert "13812345678" not in await resp.text()
    assert reveals(engine) == []


async def test_reveal_needs_csrf_an_existing_wish_and_stays_within_the_limit(
    make_client, accounts, engine
):
    client = await make_client(pii_reveals_per_hour=2)
    wish_id = submit_wish(engine, text=ORIGINAL)
    token = await login(client, "sup")
    assert (await client.post(f"/wishes/{wish_id}/reveal", data={})).status == 403
    assert (await client.post("/wishes/999999/reveal", data={"_csrf": token})).status == 404
    assert reveals(engine) == []
    # the attempt on a missing wish counted too (no probing past the limit): one left
    assert (await client.post(f"/wishes/{wish_id}/reveal", data={"_csrf": token})).status == 200
    resp = await client.post(f"/wishes/{wish_id}/reveal", data={"_csrf": token})
    assert resp.status == 429 and ORIGINAL not in await resp.text()
    assert resp.headers.get("Retry-After")
    assert len(reveals(engine)) == 1
