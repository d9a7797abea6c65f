"""Two Rasa servers sharing PostgreSQL (tracker store) and Redis (locks); one is killed between
its users' turns. Their conversations continue on the other server with their state, and no
message is lost, stored twice or reordered (counted per sender, in the tracker store and in the
event log). Asserts correctness only; ``make bench-load ARGS=--cluster`` measures speed.
"""

from __future__ import annotations

import uuid

import pytest

from bot.channels.rasa_client import RasaClient
from tests.perf import cluster_harness

pytestmark = [pytest.mark.stack, pytest.mark.pg]

BEFORE = ["你好", "我想预约报到", "退役士兵"]
AFTER = ["城阳", "下周三上午", "荣军卡怎么办理", "谢谢"]


async def test_killing_one_server_moves_its_users_with_state_and_nothing_lost(tmp_path):
    senders = [f"cl-{uuid.uuid4().hex[:10]}" for _ in range(8)]
    with cluster_harness.cluster(tmp_path) as running:
        urls = running.rasa_url
        owner = {s: RasaClient(urls).servers_for(s)[0] for s in senders}
        moved = [s for s in senders if owner[s] == running.urls[1]]
        assert moved and len(moved) < len(senders), owner
        first = await cluster_harness.play(urls, senders, BEFORE)
        running.kill(1)
        rest = await cluster_harness.play(urls, senders, AFTER, first_seq=len(BEFORE))
        client = RasaClient(urls, running.stacks[0].rasa_token)
        slots = {s: (await client.tracker(s))["slots"] for s in moved}
        await client.close()
        running.stacks[0].processes["rasa"].terminate()  # flush the event log's writer
        running.stacks[0].processes["rasa"].wait(30)
        tracker, broker = cluster_harness.stored_seqs(
            running.env["RASA_TRACKER_URL"], tmp_path / "rasa_events.db"
        )
    assert not first.failed and not rest.failed
    everything = list(range(len(BEFORE) + len(AFTER)))
    for sender in senders:
        assert tracker[sender] == everything, (sender, tracker[sender])
        assert broker[sender] == everything, (sender, broker[sender])
    for sender in moved:
        # the category was given to the dead server; the district after the move
        assert slots[sender]["veteran_category"] and slots[sender]["district"], slots[sender]
