"""RasaClient over several Rasa servers: each sender sticks to one, and moves to its next
server (only its own senders move) when that server stops answering."""

from __future__ import annotations

from aiohttp import web

from bot.channels.rasa_client import REST_PATH, RasaClient
from tests.conftest import free_port

URLS = ["http://10.0.0.1:5005", "http://10.0.0.2:5005", "http://10.0.0.3:5005"]


def test_senders_are_spread_and_stick_to_one_server():
    client = RasaClient(",".join(URLS))
    senders = [f"web-{n}" for n in range(300)]
    first = {s: client.servers_for(s)[0] for s in senders}
    assert first == {s: RasaClient(" , ".join(URLS)).servers_for(s)[0] for s in senders}
    counts = [list(first.values()).count(url) for url in URLS]
    assert min(counts) > 60, counts
    # removing a server moves only that server's senders
    smaller = RasaClient(",".join(URLS[:2]))
    moved = [s for s in senders if smaller.servers_for(s)[0] != first[s]]
    assert moved and all(first[s] == URLS[2] for s in moved)


async def test_a_dead_server_sends_its_senders_to_their_next_server():
    seen: list[str] = []

    async def rest(request: web.Request) -> web.Response:
        body = await request.json()
        seen.append(body["sender"])
        return web.json_response([{"recipient_id": body["sender"], "text": "好的"}])

    app = web.Application()
    app.router.add_post(REST_PATH, rest)
    runner = web.AppRunner(app)
    await runner.setup()
    alive = f"http://127.0.0.1:{free_port()}"
    site = web.TCPSite(runner, "127.0.0.1", int(alive.rsplit(":", 1)[1]))
    await site.start()
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    client = RasaClient(f"{dead},{alive}", backoff=0.01)
    try:
        senders = [f"web-{n}" for n in range(20)]
        on_dead = [s for s in senders if client.servers_for(s)[0] == dead]
        assert on_dead
        for sender in senders:
            assert (await client.send(sender, "你好"))[0]["text"] == "好的"
        assert sorted(seen) == sorted(senders)  # each message handled once, dead ones moved
        # the dead server is now tried last
        assert client.servers_for(on_dead[0])[0] == alive
    finally:
        await client.close()
        await runner.cleanup()


async def test_a_retry_carries_the_message_id_of_its_first_attempt():
    seen: list[tuple[str, str]] = []

    async def rest(request: web.Request) -> web.Response:
        body = await request.json()
        seen.append((body["message"], body["message_id"]))
        if len(seen) % 2:  # every first attempt fails as a dying server's would
            return web.Response(status=502)
        return web.json_response([{"recipient_id": body["sender"], "text": "好的"}])

    app = web.Application()
    app.router.add_post(REST_PATH, rest)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    client = RasaClient(f"http://127.0.0.1:{port}", backoff=0.01)
    try:
        assert (await client.send("web-1", "一"))[0]["text"] == "好的"
        assert (await client.send("web-1", "二", message_id="tg:42"))[0]["text"] == "好的"
    finally:
        await client.close()
        await runner.cleanup()
    (one, first), (one_again, retry), (two, given), (two_again, given_again) = seen
    assert (one, one_again, two, two_again) == ("一", "一", "二", "二")
    assert first == retry and len(first) == 32  # made once per send, reused by its retry
    assert given == given_again == "tg:42"
