"""Walk numbered pages in order while a bounded number of them are fetched ahead.

Rules of this file:
1. No task group lives in an async generator (anyio's rule): `prefetch_pages` is an async
   context manager that owns the task group, and the iterator it hands out only waits on
   per-page slots.
2. At most `concurrency` pages are in flight or fetched-but-not-yet-taken at any moment; the
   page being read out by the consumer is the only other one held in memory.
3. A page's error is raised from the iterator as itself, never as an exception group, and an
   error raised in the block leaves it as itself too.
4. Leaving the block, early or not, cancels the fetches still running; the iterator then
   refuses to go on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

import anyio
from anyio.abc import TaskGroup

T = TypeVar("T")

Fetch = Callable[[int], Awaitable[Sequence[T]]]


class _Slot(Generic[T]):
    """One page's outcome, filled by its fetch task and taken by the consumer."""

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.items: Sequence[T] = ()
        self.error: Exception | None = None


class PageWalk(Generic[T]):
    """The async iterator over every item of pages `first .. first + pages - 1`, in order."""

    def __init__(self, fetch: Fetch[T], pages: int, *, concurrency: int, first: int) -> None:
        self.pages = pages
        self._fetch = fetch
        self._first = first
        self._next = first
        self._end = first + pages
        self._window = anyio.Semaphore(concurrency)
        self._slots: dict[int, _Slot[T]] = {}
        self._batch: Iterator[T] = iter(())
        self._closed = False

    def __repr__(self) -> str:
        return f"<PageWalk page {self._next - 1} of {self.pages}>"

    async def schedule(self, tg: TaskGroup) -> None:
        for page in range(self._first, self._end):
            await self._window.acquire()
            tg.start_soon(self._fill, page, self._slot(page))

    async def _fill(self, page: int, slot: _Slot[T]) -> None:
        try:
            slot.items = await self._fetch(page)
        except Exception as exc:  # handed to the consumer, in page order
            slot.error = exc
        slot.done.set()

    def _slot(self, page: int) -> _Slot[T]:
        return self._slots.setdefault(page, _Slot())

    def close(self) -> None:
        self._closed = True

    def __aiter__(self) -> PageWalk[T]:
        return self

    async def __anext__(self) -> T:
        if self._closed:
            raise RuntimeError("the page walk is over: iterate inside its `async with` block")
        while True:
            for item in self._batch:
                return item
            if self._next >= self._end:
                raise StopAsyncIteration
            slot = self._slot(self._next)
            await slot.done.wait()
            del self._slots[self._next]
            self._next += 1
            self._window.release()
            if slot.error is not None:
                raise slot.error
            self._batch = iter(slot.items)


@asynccontextmanager
async def prefetch_pages(
    fetch: Fetch[T], pages: int, *, concurrency: int, first: int = 1
) -> AsyncIterator[PageWalk[T]]:
    """`async with prefetch_pages(fetch, n, concurrency=4) as items: async for item in items`.

    `fetch(page)` returns the items of one page; pages are numbered from `first`.
    """
    walk: PageWalk[T] = PageWalk(fetch, pages, concurrency=concurrency, first=first)
    error: Exception | None = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(walk.schedule, tg)
        try:
            yield walk
        except Exception as exc:  # re-raised below, outside the task group, as itself
            error = exc
        finally:
            walk.close()
            tg.cancel_scope.cancel()
    if error is not None:
        raise error
