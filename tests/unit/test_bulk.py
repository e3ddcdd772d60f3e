"""Bulk threads run at a lowered priority; the threads that ask them do not."""

from __future__ import annotations

import asyncio
import contextvars
import os
import sys
import threading

import pytest

from trainquant import bulk

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="a thread's own nice value is Linux's")
who = contextvars.ContextVar("who", default="nobody")


def _nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def _on_the_bulk_thread() -> tuple[int, str, str]:
    return _nice(), threading.current_thread().name, who.get()


def test_work_runs_on_a_lowered_thread_with_the_callers_context():
    before = _nice()

    async def ask() -> tuple[int, str, str]:
        who.set("a page's request")
        return await bulk.run(7, _on_the_bulk_thread)

    nice, name, seen = asyncio.run(ask())
    assert nice == min(19, before + 7) and name.startswith("tq-bulk")
    assert seen == "a page's request"
    assert _nice() == before  # the caller's thread keeps its priority


def test_a_thread_is_lowered_once_and_zero_leaves_it_alone():
    seen: list[int] = []

    def thread() -> None:
        start = _nice()
        bulk.lower_this_thread(0)
        seen.append(_nice() - start)
        bulk.lower_this_thread(3)
        bulk.lower_this_thread(3)
        seen.append(_nice() - start)

    t = threading.Thread(target=thread)
    t.start()
    t.join()
    assert seen[0] == 0 and seen[1] == min(3, 19 - (_nice()))
