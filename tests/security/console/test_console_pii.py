"""Finding 8: a full phone/ID number is revealed only to the agent holding the user's handoff
(or a supervisor), at most ``pii_reveals_per_hour`` times per console user, and every reveal
is logged."""

from __future__ import annotations

from sqlalchemy import select

from bot.console.models import PiiRevealLog
from bot.core import db, handoff
from tests.console.conftest import NOW, login

SENDER = "tg-4242"
PHONE = "13812345678"


def with_phone(fake_rasa, sender: str = SENDER) -> None:
    fake_rasa.tracker(sender)["slots"] = {"phone": PHONE}


async def reveal(client, token, sender: str = SENDER):
    return await client.post(
        "/pii/reveal", json={"sender_id": sender, "field": "phone"}, headers={"X-CSRF-Token": token}
    )


def open_handoff(engine, sender: str = SENDER) -> int:
    with db.session_scope(engine) as s:
        return handoff.request(s, sender, "human", "人工", NOW).id


def logged(engine) -> list[tuple[str, str]]:
    with db.session_scope(engine) as s:
        return [(r.agent, r.subject) for r in s.execute(select(PiiRevealLog)).scalars()]


async def test_only_the_agent_holding_the_handoff_may_reveal(
    make_client, browser, accounts, fake_rasa, engine
):
    with_phone(fake_rasa)
    agent1 = await make_client()
    token1 = await login(agent1, "agent1")
    agent2 = await browser(agent1)
    token2 = await login(agent2, "agent2")
    # no handoff at all, then a waiting one nobody took: refused for every agent
    assert (await reveal(agent1, token1)).status == 403
    handoff_id = open_handoff(engine)
    assert (await reveal(agent1, token1)).status == 403
    resp = await agent1.post(
        f"/handoffs/{handoff_id}/take", data={"_csrf": token1}, allow_redirects=False
    )
    assert resp.status == 302
    resp = await reveal(agent2, token2)  # someone else's handoff
    assert resp.status == 403 and "接管" in (await resp.json())["message"]
    resp = await reveal(agent1, token1)
    assert resp.status == 200 and (await resp.json())["value"] == PHONE
    assert logged(engine) == [("agent1", SENDER)]


async def test_a_supervisor_may_reveal_without_a_handoff(client, accounts, fake_rasa, engine):
    with_phone(fake_rasa)
    token = await login(client, "sup")
    resp = await reveal(client, token)
    assert resp.status == 200 and (await resp.json())["value"] == PHONE
    assert logged(engine) == [("sup", SENDER)]


async def test_reveals_are_rate_limited_per_user(make_client, accounts, fake_rasa, engine):
    client = await make_client(pii_reveals_per_hour=3)
    token = await login(client, "sup")
    senders = [f"tg-{n}" for n in range(5)]
    for sender in senders:
        with_phone(fake_rasa, sender)
    statuses = [(await reveal(client, token, sender)).status for sender in senders]
    assert statuses == [200, 200, 200, 429, 429]
    resp = await reveal(client, token, senders[0])
    assert resp.status == 429 and int(resp.headers["Retry-After"]) > 0
    assert len(logged(engine)) == 3
