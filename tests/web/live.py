"""A real ``jessr serve`` process (gunicorn) on a free loopback port, for the tests
that need a server rather than Flask's test client: ``test_serve`` and the
browser journeys (``tests/web/browser``).

The process runs this checkout's code (``PYTHONPATH``), in its own process
group, and is stopped by its id (SIGTERM to gunicorn's master, which stops its
workers; SIGKILL to the group if it does not stop in time).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_environ(env: Mapping[str, str]) -> dict[str, str]:
    """This process's environment plus ``env``, running this checkout's code."""
    merged = dict(os.environ)
    merged.update(env)
    merged["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p
    )
    return merged


@dataclass
class LiveServer:
    """A started ``jessr serve``: its base URL and process."""

    url: str
    process: subprocess.Popen[str]
    log: Path
    env: dict[str, str] = field(default_factory=dict)

    def output(self) -> str:
        """What the server printed so far (its access log and errors)."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until ``/login`` answers; raise with the server's output otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"jessr serve exited {self.process.returncode}:\n{self.output()[-3000:]}"
                )
            try:
                with urllib.request.urlopen(self.url + "/login", timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"jessr serve not ready after {timeout:.0f} s:\n{self.output()[-3000:]}")

    def stop(self) -> None:
        """Stop gunicorn (SIGTERM, then SIGKILL to its process group)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def start_server(
    workdir: Path,
    env: Mapping[str, str],
    *,
    workers: int = 2,
    threads: int = 4,
    port: int | None = None,
    wait: bool = True,
) -> LiveServer:
    """``jessr serve`` in ``workdir`` with ``env`` (JESSR_DATABASE_URL…) on a free port."""
    port = port or free_port()
    log = workdir / f"serve-{port}.log"
    full_env = serve_environ(env)
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "engine.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--threads",
                str(threads),
            ],
            cwd=workdir,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,  # its own group: stopped together, by id
        )
    server = LiveServer(f"http://127.0.0.1:{port}", process, log, dict(env))
    if wait:
        try:
            server.wait_ready()
        except BaseException:
            server.stop()
            raise
    return server
