"""A simulated system in a child process (``python -m trainquant.simulate.systems``), for tests where it must
really die (a crash mid-sync) and for the demo, which serves the three systems beside TrainQuant."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from trainquant.simulate.systems.running import Stoppable
from trainquant.simulate.systems.server import SystemConfig


class SystemProcess(Stoppable):
    """A system served by a child process (``python -m trainquant.simulate.systems``), so a crash really ends a process."""

    def __init__(self, popen: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
        self._popen, self.url, self.log_path = popen, url, log_path

    @property
    def pid(self) -> int:
        return self._popen.pid

    def alive(self) -> bool:
        return self._popen.poll() is None

    def wait(self, timeout: float | None = None) -> int:
        return self._popen.wait(timeout)

    def stop(self) -> None:
        if self._popen.poll() is None:
            self._popen.terminate()
            try:
                self._popen.wait(10)
            except subprocess.TimeoutExpired:
                self._popen.kill()
                self._popen.wait()


def start_process(config: SystemConfig, workdir: Path, *, port: int = 0, startup_timeout_s: float = 20.0) -> SystemProcess:
    """The system in a child process; ``port`` 0 picks a free one (a restart after a crash may ask for the same)."""
    workdir.mkdir(parents=True, exist_ok=True)
    config_path, port_path, log_path = (workdir / f"{config.name}{suffix}" for suffix in (".json", ".port", ".log"))
    config_path.write_text(config.to_json(), encoding="utf-8")
    port_path.unlink(missing_ok=True)  # a previous run's port file points at a dead server
    command = [sys.executable, "-m", "trainquant.simulate.systems", "--config", str(config_path), "--port", str(port), "--port-file", str(port_path)]
    with log_path.open("ab") as log:
        process = SystemProcess(subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT), "", log_path)
    deadline = time.monotonic() + startup_timeout_s
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # a proxy from the environment must not see loopback
    try:
        while time.monotonic() < deadline:
            if not process.alive():
                raise RuntimeError(f"{config.name} exited with {process.wait()} before serving:\n{log_path.read_text(errors='replace')[-2000:]}")
            if port_path.exists():
                process.url = f"http://127.0.0.1:{int(port_path.read_text())}"
                with contextlib.suppress(OSError), opener.open(f"{process.url}/health", timeout=1) as answer:
                    if answer.status == 200:
                        return process
            time.sleep(0.05)  # waiting on another process, which signals nothing else
        raise TimeoutError(f"{config.name} did not serve within {startup_timeout_s} s:\n{log_path.read_text(errors='replace')[-2000:]}")
    except BaseException:
        process.stop()
        raise
