"""A quiet progress display for long CLI runs (stderr only, never in the plan).

Nothing is shown for runs shorter than ``delay`` seconds. On a terminal the
line is redrawn in place; otherwise (CI logs, pipes) one line per stage.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class Progress:
    """Context manager; call :meth:`stage` as work moves on."""

    def __init__(self, stream: TextIO | None = None, delay: float = 3.0) -> None:
        self._stream = stream or sys.stderr
        self._delay = delay
        self._tty = self._stream.isatty()
        self._start = time.monotonic()
        self._stage = "starting"
        self._stage_start = self._start
        self._budget: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._shown = False
        self._lock = threading.Lock()

    def __enter__(self) -> Progress:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        if self._shown and self._tty:
            self._stream.write("\r\033[K")
            self._stream.flush()

    def stage(self, name: str, budget: float | None = None) -> None:
        """Enter a new stage; ``budget`` is the seconds it may take, when known."""
        with self._lock:
            self._stage, self._budget = name, budget
            self._stage_start = time.monotonic()
            if not self._tty and time.monotonic() - self._start >= self._delay:
                self._line()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            with self._lock:
                if time.monotonic() - self._start < self._delay:
                    continue
                if self._tty or not self._shown:
                    self._line()

    def _line(self) -> None:
        now = time.monotonic()
        text = f"{self._stage}… {now - self._start:5.1f} s"
        if self._budget:
            left = max(0.0, self._budget - (now - self._stage_start))
            text += f" (≤ {left:.0f} s left)"
        if self._tty:
            self._stream.write("\r\033[K" + text)
        else:
            self._stream.write(text + "\n")
        self._stream.flush()
        self._shown = True
