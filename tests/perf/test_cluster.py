"""Two Rasa servers sharing PostgreSQL (tracker store) and Redis (locks); one is killed between
its users' turns, or in the middle of them. Their conversations continue on the other server
with their state, and no message is lost, stored twice or reordered (counted per sender, in the
tracker store and in the event log). Asserts correctness only; ``make bench-load ARGS=--cluster``
measures speed.
"""

from __future__ import annotations

import uuid

import pytest

from bot.channels.rasa_client import RasaClient
from tests.perf import cluster_harness
from tests.perf.cluster_harness import kill_server, post

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


def texts(replies: list[dict]) -> list[str]:
    return [r.get("text") or "" for r in replies]


async def test_a_server_killed_mid_turn_loses_and_doubles_nothing(tmp_path):
    """Server 1 dies with turns in flight. ``lost`` users: server 1 stored their message 3 and
    died before answering; the client resends it (same id) to server 0, which has older memory
    of them, and must answer from the stored turn. ``cut`` users: server 1 dies while their turn
    waits in an action call; the resend must be handled anew on server 0, once."""
    with cluster_harness.cluster(tmp_path, lock_lifetime=10) as running:
        urls = running.rasa_url
        server0, server1 = running.urls
        by_server: dict[str, list[str]] = {server0: [], server1: []}
        while min(len(v) for v in by_server.values()) < 4:
            sender = f"mt-{uuid.uuid4().hex[:10]}"
            by_server[RasaClient(urls).servers_for(sender)[0]].append(sender)
        lost, cut = by_server[server1][:2], by_server[server1][2:4]
        senders = by_server[server0][:4] + lost + cut
        others = [s for s in senders if s not in lost]

        start = await cluster_harness.play(urls, senders, BEFORE[:2])
        # message 2 of the lost users reaches server 0 (as after an earlier hiccup): its memory
        # of them is then one turn behind what server 1 stores next
        for sender in lost:
            assert texts(await post(server0, sender, BEFORE[2], 2, f"m-{sender}-2"))
        middle = await cluster_harness.play(urls, others, BEFORE[2:], first_seq=2)
        lost_answers = {
            sender: await post(server1, sender, AFTER[0], 3, f"m-{sender}-3") for sender in lost
        }
        cluster_harness.freeze_actions(running, 1)
        rest = await cluster_harness.play(
            urls,
            others,
            AFTER,
            first_seq=3,
            kill=(cluster_harness.stuck(cut, 1.5), lambda: kill_server(running, 1)),
        )
        late = await cluster_harness.play(
            urls, lost, AFTER, first_seq=3, ids={(s, 3): f"m-{s}-3" for s in lost}
        )
        client = RasaClient(urls, running.stacks[0].rasa_token)
        slots = {s: (await client.tracker(s))["slots"] for s in lost + cut}
        await client.close()
        running.stacks[0].processes["rasa"].terminate()  # flush the event log's writer
        running.stacks[0].processes["rasa"].wait(30)
        tracker, broker = cluster_harness.stored_seqs(
            running.env["RASA_TRACKER_URL"], tmp_path / "rasa_events.db"
        )
    assert set(rest.cut) >= set(cut), rest.cut  # their turns were in flight at the kill
    for played in (start, middle, rest, late):
        assert not played.failed, played.failed
    everything = list(range(len(BEFORE) + len(AFTER)))
    for sender in senders:
        assert tracker[sender] == everything, (sender, tracker[sender])
        assert broker[sender] == everything, (sender, broker[sender])
        for seq in everything[3:]:
            if sender not in lost or seq > 3:
                answers = (rest if sender not in lost else late).replies[(sender, seq)]
                assert any(texts(answers)), (sender, seq, answers)
    for sender in lost:  # the resend got the stored turn's answer, not a second turn
        assert texts(late.replies[(sender, 3)]) == texts(lost_answers[sender]) != []
    for sender in lost + cut:
        assert slots[sender]["veteran_category"] and slots[sender]["district"], slots[sender]
