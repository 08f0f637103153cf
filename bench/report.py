"""Shared pieces of the benchmark reports: the machine line and BENCHMARKS.md sections.

Each benchmark owns one section of BENCHMARKS.md, between
``<!-- NAME:start -->`` and ``<!-- NAME:end -->``; re-running it replaces only
that section.
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path


def machine() -> str:
    """CPU model and core count (from /proc/cpuinfo when there is one)."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} cores"


def commit() -> str:
    """The checkout's short commit (``+`` when the tree has uncommitted changes)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "*.py"]).returncode != 0
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+" if dirty else "")


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def write_section(path: Path, section: str, name: str) -> None:
    """Replace section ``name`` of ``path`` (append it; create the file if missing).

    ``section`` must start and end with the section's markers.
    """
    start_mark, end_mark = markers(name)
    if not path.exists():
        path.write_text("# Benchmarks\n\n" + section.rstrip("\n") + "\n")
        return
    text = path.read_text()
    start, end = text.find(start_mark), text.find(end_mark)
    if start != -1 and end > start:
        text = text[:start] + section.rstrip("\n") + text[end + len(end_mark) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n"
    path.write_text(text)
