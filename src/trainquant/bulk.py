"""Bulk work gives way to people waiting for a page.

Judging a batch of check-ins and recomputing the figures it touched are bulk work: nobody watches them
happen, while behind a page or a GET there is a person or a client waiting. On Linux every thread has
a nice value of its own, so the threads that do bulk work lower their own priority: when both cores
are busy, the scheduler runs the threads serving reads first, and bulk work takes the time left over.

A thread's priority is lowered once and for good (an unprivileged process may not raise it again), so
bulk work from requests runs on threads of its own (``run``); a job consumer's worker threads lower
themselves (``lower_this_thread``). On other systems the nice value belongs to the whole process,
so nothing is changed there.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")
THREADS = 4  # batches wait for one another on SQLite's writer anyway; waiting threads cost nothing
_local = threading.local()
_pools: dict[int, ThreadPoolExecutor] = {}
_pools_guard = threading.Lock()


def lower_this_thread(nice: int) -> None:
    """Raise the calling thread's nice value by ``nice`` (once per thread; 0 leaves it alone)."""
    if nice <= 0 or sys.platform != "linux" or getattr(_local, "lowered", False):
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
    except OSError:  # a container that forbids it: the work is still done, at the usual priority
        log.debug("could not lower the priority of thread %s", tid, exc_info=True)
    _local.lowered = True


def _pool(nice: int) -> ThreadPoolExecutor:
    with _pools_guard:
        pool = _pools.get(nice)
        if pool is None:
            pool = _pools[nice] = ThreadPoolExecutor(THREADS, thread_name_prefix="tq-bulk", initializer=lower_this_thread, initargs=(nice,))
        return pool


async def run(nice: int, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)`` on a bulk thread (nice raised by ``nice``), awaited from the event loop.

    Context variables (the request's locale) go along, as with Starlette's ``run_in_threadpool``.
    """
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_pool(nice), call)
