"""Queue and Slots: the export's hand-offs, without a network."""

from __future__ import annotations

import anyio
import pytest

from nudgescribe_async._queue import Queue, Slots


async def test_a_full_queue_holds_its_putter_until_an_item_is_taken() -> None:
    queue: Queue[int] = Queue(2)
    await queue.put(1)
    await queue.put(2)
    put_third = anyio.Event()

    async def putter() -> None:
        await queue.put(3)
        put_third.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(putter)
        await anyio.wait_all_tasks_blocked()
        assert not put_third.is_set()
        assert len(queue) == 2
        assert await queue.take() == 1
        await put_third.wait()
    assert [await queue.take(), await queue.take()] == [2, 3]


async def test_an_ended_queue_gives_what_it_holds_then_end_of_stream() -> None:
    queue: Queue[str] = Queue()
    got: list[str] = []

    async def taker() -> None:
        while True:
            try:
                got.append(await queue.take())
            except anyio.EndOfStream:
                return

    async with anyio.create_task_group() as tg:
        tg.start_soon(taker)
        await anyio.wait_all_tasks_blocked()  # the taker waits on an empty queue
        await queue.put("a")
        await queue.put("b")
        queue.end()
    assert got == ["a", "b"]


async def test_a_released_slot_goes_to_the_oldest_waiter() -> None:
    slots = Slots(1)
    await slots.acquire()
    order: list[str] = []

    async def waiter(name: str) -> None:
        await slots.acquire()
        order.append(name)

    async with anyio.create_task_group() as tg:
        tg.start_soon(waiter, "first")
        await anyio.wait_all_tasks_blocked()
        tg.start_soon(waiter, "second")
        await anyio.wait_all_tasks_blocked()
        slots.release()
        await anyio.wait_all_tasks_blocked()
        assert order == ["first"]
        slots.release()
    assert order == ["first", "second"]
    assert slots.free == 0


@pytest.mark.parametrize("handed_over", [False, True])
async def test_a_cancelled_waiter_never_keeps_a_slot(handed_over: bool) -> None:
    slots = Slots(1)
    await slots.acquire()
    acquired: list[bool] = []

    async def waiter() -> None:
        await slots.acquire()
        acquired.append(True)

    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(waiter)
            await anyio.wait_all_tasks_blocked()
            scope.cancel()
            if handed_over:  # released to the waiter after its cancellation, before it ran
                slots.release()
    if not handed_over:
        slots.release()
    assert acquired == []
    assert slots.free == 1
    await slots.acquire()  # the slot is really there
    assert slots.free == 0
