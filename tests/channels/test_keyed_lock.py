import asyncio

from bot.channels.keyed_lock import KeyedLocks


async def test_one_key_is_served_in_arrival_order_and_forgotten_afterwards():
    locks = KeyedLocks()
    order: list[int] = []
    first_inside = asyncio.Event()
    release_first = asyncio.Event()

    async def first():
        async with locks.hold("u1"):
            first_inside.set()
            await release_first.wait()
            order.append(1)

    async def later(n: int):
        async with locks.hold("u1"):
            order.append(n)

    tasks = [asyncio.create_task(first())]
    await first_inside.wait()
    tasks += [asyncio.create_task(later(n)) for n in (2, 3)]
    await asyncio.sleep(0)
    assert order == [] and len(locks) == 1
    release_first.set()
    await asyncio.gather(*tasks)
    assert order == [1, 2, 3]
    assert len(locks) == 0


async def test_different_keys_do_not_wait_for_each_other():
    locks = KeyedLocks()

    async def other_user() -> int:
        async with locks.hold("u2"):
            return len(locks)

    async with locks.hold("u1"):
        assert await asyncio.wait_for(other_user(), timeout=1) == 2
    assert len(locks) == 0
