"""A simulated system running beside the caller: in a thread of this process (``start_in_thread``, for
tests that look inside it), or as its own process (``process.start_process``); both stop on leaving
their ``with`` block."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Self

from trainquant.simulate.systems.server import StatsSnapshot, SystemConfig, SystemServer


class Stoppable:
    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.stop()


class RunningSystem(Stoppable):
    """A system served from a thread of this process; its crash stops the server, not the process."""

    def __init__(self, server: SystemServer) -> None:
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"system-{server.state.config.name}", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def stats(self) -> StatsSnapshot:
        return self._server.state.snapshot()

    @property
    def crashed(self) -> bool:
        return self._server.state.crashed.is_set()

    def expire_tokens(self) -> None:
        self._server.state.expire_tokens()

    def held(self, timeout: float) -> bool:
        """Whether the held request (``SystemConfig.hold_request``) has arrived within ``timeout`` seconds."""
        return self._server.state.held.wait(timeout)

    def release(self) -> None:
        self._server.state.released.set()

    def stop(self) -> None:
        self.release()
        self._server.close()
        self._thread.join()


def start_in_thread(config: SystemConfig, host: str = "127.0.0.1", port: int = 0) -> RunningSystem:
    # The socket listens once SystemServer returns: a request sent before serve_forever runs waits in the backlog.
    return RunningSystem(SystemServer((host, port), config, exit_on_crash=False))
