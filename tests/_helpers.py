"""Helpers shared by test modules."""

from __future__ import annotations

import asyncio


def client_tasks() -> set[asyncio.Task[object]]:
    """Running tasks, leaving out the emulator's own request handlers (same loop)."""
    tasks = set()
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        if task.done() or (code is not None and "aiohttp/web_" in code.co_filename):
            continue
        tasks.add(task)
    return tasks
