"""One event loop per process, on a thread of its own, for calling the SDK from synchronous code.

Dask runs tasks in plain threads and the SDK is async. As in fsspec's sync layer
(`fsspec/asyn.py`), each process gets one event-loop thread, started on first use; a
synchronous caller hands its coroutine to that loop and waits for the result.

Rules of this file:
1. One loop and one daemon thread per process. A forked child starts its own on first use and
   never touches what it inherited from its parent.
2. `run(coro)` blocks the calling thread until the coroutine is done. It works from a thread
   that runs an event loop of its own (a notebook) and refuses to run on the loop thread itself,
   where waiting would deadlock.
3. Clients are cached here by their settings and live on the loop thread, so a process
   authenticates once and pools its connections. At interpreter exit an atexit hook cancels what
   still runs on the loop, closes every client there, then stops the loop.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import threading
from collections.abc import Callable, Coroutine, Hashable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from ._client import Client

T = TypeVar("T")
log = logging.getLogger("nudgescribe_async")

THREAD_NAME = "nudgescribe-io"

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_clients: dict[Hashable, Client] = {}
# What a forked child inherited: kept referenced but never closed, because closing a pooled
# TLS connection from the child would write on a socket its parent still uses.
_inherited: list[object] = []
_atexit_registered = False


def get_loop() -> asyncio.AbstractEventLoop:
    """This process's SDK loop, started (with its thread and exit hook) on first use."""
    global _loop, _thread, _atexit_registered
    with _lock:
        if _loop is None:
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name=THREAD_NAME, daemon=True)
            thread.start()
            _loop, _thread = loop, thread
            if not _atexit_registered:
                atexit.register(shutdown)
                _atexit_registered = True
        return _loop


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` on this process's SDK loop and wait for its result (or its exception)."""
    loop = get_loop()
    if _running_loop() is loop:
        coro.close()
        raise RuntimeError(
            "nudgescribe_async: a blocking SDK call was made on the SDK's own loop thread; "
            "await the coroutine instead"
        )
    future = asyncio.run_coroutine_threadsafe(coro, loop)
    try:
        return future.result()
    except BaseException:
        future.cancel()  # interrupted while waiting: stop the work too
        raise


async def shared_client(key: Hashable, factory: Callable[[], Client]) -> Client:
    """The process's client for `key`, made by `factory` on first use. Loop thread only."""
    if _running_loop() is not _loop:
        raise RuntimeError("shared clients live on the SDK loop; use run(...)")
    client = _clients.get(key)
    if client is None:
        client = _clients[key] = factory()
    return client


def shutdown(timeout: float = 10.0) -> None:
    """Cancel what still runs on the loop, close every shared client, stop the loop (atexit)."""
    global _loop, _thread
    with _lock:
        loop, thread = _loop, _thread
        clients = list(_clients.values())
        _loop = _thread = None
        _clients.clear()
    if loop is None or thread is None:
        return
    try:
        asyncio.run_coroutine_threadsafe(_close(clients), loop).result(timeout)
    except Exception:
        log.warning("closing the SDK's shared clients failed", exc_info=True)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout)
    if not thread.is_alive():
        loop.close()


async def _close(clients: list[Client]) -> None:
    current = asyncio.current_task()
    pending = [t for t in asyncio.all_tasks() if t is not current]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for client in clients:
        try:
            await client.aclose()
        except Exception:
            log.warning("closing a shared client failed", exc_info=True)
    await asyncio.get_running_loop().shutdown_asyncgens()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _after_fork_in_child() -> None:
    global _lock, _loop, _thread
    _inherited.extend([_loop, *_clients.values()])
    _lock = threading.Lock()
    _loop = _thread = None
    _clients.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
