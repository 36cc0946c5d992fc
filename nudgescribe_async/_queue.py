"""Hand-offs between the tasks of one event loop that wait only when they must.

Rules of this file:
1. Nothing yields when it need not: a put into a queue with room, a take from a non-empty
   queue, an acquire of a free slot all return at once. An anyio memory stream or semaphore
   yields to the event loop on every call, which in an export costs more than the chunk it
   carries is worth. Callers that loop on ready items yield on their own schedule (the export
   stream does so once per file).
2. A waiter waits on an anyio Event of its own, so it is cancelled with its task group like any
   other wait, and one release wakes one waiter, never a crowd that goes back to sleep.
3. No close: the export's task group is cancelled as a whole, and its waits with it. A queue
   can be ended: its taker gets what is in it, then EndOfStream.
"""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

import anyio

T = TypeVar("T")


class Slots:
    """A semaphore without checkpoints: `acquire` waits only when no slot is free, and a
    release hands its slot straight to the oldest waiter."""

    def __init__(self, count: int) -> None:
        self._free = count
        self._waiters: deque[anyio.Event] = deque()

    @property
    def free(self) -> int:
        return self._free

    async def acquire(self) -> None:
        if self._free and not self._waiters:
            self._free -= 1
            return
        handed = anyio.Event()
        self._waiters.append(handed)
        try:
            await handed.wait()
        except BaseException:
            if handed.is_set():  # the slot was handed over as the wait was cancelled: pass it on
                self.release()
            else:
                self._waiters.remove(handed)
            raise

    def release(self) -> None:
        if self._waiters:
            self._waiters.popleft().set()  # the slot goes to that waiter: `_free` is unchanged
        else:
            self._free += 1


class Queue(Generic[T]):
    """Bounded (`capacity` items) or unbounded (None); any number of putters, one taker."""

    def __init__(self, capacity: int | None = None) -> None:
        self._items: deque[T] = deque()
        self._room = Slots(capacity) if capacity is not None else None
        self._readable: anyio.Event | None = None  # the taker's, while it waits
        self._ended = False

    def __len__(self) -> int:
        return len(self._items)

    async def put(self, item: T) -> None:
        """Append `item`, first waiting for room if the queue is full."""
        if self._room is not None:
            await self._room.acquire()
        self._items.append(item)
        self._wake()

    def end(self) -> None:
        """No more items: `take` raises EndOfStream once the queue is empty."""
        self._ended = True
        self._wake()

    async def take(self) -> T:
        """The oldest item, waiting for one if the queue is empty."""
        while not self._items:
            if self._ended:
                raise anyio.EndOfStream
            if self._readable is None:
                self._readable = anyio.Event()
            await self._readable.wait()
        item = self._items.popleft()
        if self._room is not None:
            self._room.release()
        return item

    def _wake(self) -> None:
        if self._readable is not None:
            self._readable.set()
            self._readable = None
