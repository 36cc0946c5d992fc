"""The ordered, bounded prefetch engine behind `client.customers.list()`: no network."""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import anyio.lowlevel
import pytest

from nudgescribe_async._paging import prefetch_pages


class Pages:
    """Fake fetches: page n holds [n*10, n*10+1]; records what ran, and how many at once."""

    def __init__(self, *, slow: set[int] = frozenset(), fail: int | None = None) -> None:
        self.slow = slow
        self.fail = fail
        self.started: list[int] = []
        self.cancelled: list[int] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.release_slow = anyio.Event()

    async def __call__(self, page: int) -> Sequence[int]:
        self.started.append(page)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if page in self.slow:
                await self.release_slow.wait()
            else:
                await anyio.lowlevel.checkpoint()
            if page == self.fail:
                raise LookupError(f"page {page} is gone")
            return [page * 10, page * 10 + 1]
        except anyio.get_cancelled_exc_class():
            self.cancelled.append(page)
            raise
        finally:
            self.in_flight -= 1


async def test_items_come_in_page_order_even_when_pages_finish_out_of_order() -> None:
    pages = Pages(slow={1})
    seen = []
    async with prefetch_pages(pages, 5, concurrency=3) as items:
        async with anyio.create_task_group() as tg:
            tg.start_soon(_release_when_others_started, pages, {2, 3})
            seen = [item async for item in items]
    assert seen == [10, 11, 20, 21, 30, 31, 40, 41, 50, 51]


async def _release_when_others_started(pages: Pages, others: set[int]) -> None:
    while not others <= set(pages.started):
        await anyio.lowlevel.checkpoint()
    pages.release_slow.set()


async def settle() -> None:
    """Let every other task run as far as it can."""
    for _ in range(100):
        await anyio.lowlevel.checkpoint()


@pytest.mark.parametrize("concurrency", [1, 2, 4])
async def test_no_more_than_concurrency_pages_are_fetched_at_once(concurrency: int) -> None:
    pages = Pages(slow=set(range(1, 13)))
    async with prefetch_pages(pages, 12, concurrency=concurrency) as items:
        await settle()
        assert pages.started == list(range(1, concurrency + 1))
        pages.release_slow.set()
        assert len([item async for item in items]) == 24
    assert pages.most_in_flight == concurrency
    assert pages.started == list(range(1, 13))


async def test_leaving_early_cancels_the_prefetches_and_fetches_no_further() -> None:
    pages = Pages(slow=set(range(2, 101)))
    async with prefetch_pages(pages, 100, concurrency=4) as items:
        async for item in items:
            assert item == 10
            break
        await settle()
    assert pages.started == [1, 2, 3, 4, 5]
    assert sorted(pages.cancelled) == [2, 3, 4, 5]


async def test_a_failed_page_raises_its_own_error_after_the_pages_before_it() -> None:
    seen: list[int] = []
    with pytest.raises(LookupError, match="page 3 is gone"):
        await walk_into(seen, Pages(fail=3), 6)
    assert seen == [10, 11, 20, 21]


async def walk_into(seen: list[int], pages: Pages, count: int) -> None:
    async with prefetch_pages(pages, count, concurrency=2) as items:
        async for item in items:
            seen.append(item)


async def test_an_error_raised_in_the_block_leaves_it_as_itself() -> None:
    with pytest.raises(KeyError):
        async with prefetch_pages(Pages(slow={1}), 3, concurrency=2):
            raise KeyError("mine")


async def test_the_iterator_refuses_to_run_after_its_block() -> None:
    async with prefetch_pages(Pages(), 3, concurrency=2) as items:
        pass
    with pytest.raises(RuntimeError, match="async with"):
        await items.__anext__()


async def test_zero_pages_yield_nothing() -> None:
    pages = Pages()
    async with prefetch_pages(pages, 0, concurrency=2) as items:
        assert [item async for item in items] == []
    assert pages.started == []
