"""What every benchmark shares: one JSON line per figure, the commit, percentiles, timing.

A line looks like::

    {"bench": "triage", "figure": "inbox_query_p50", "value": 2.6, "unit": "ms",
     "commit": "aeb0e18", "leads": 1000000, "case": "first_page"}

``bench``, ``figure``, ``value``, ``unit`` and ``commit`` are always there; the rest say which
case the figure belongs to, so lines from two commits can be joined on everything but
``value`` and ``commit``.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
RESULTS = PROJECT / "bench" / "results"
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=PROJECT, capture_output=True, text=True, check=True
    ).stdout.strip()


@cache
def commit_id() -> str:
    """The short commit, marked ``-dirty`` when tracked files differ from it."""
    try:
        sha = _git("rev-parse", "--short", "HEAD")
        changed = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{sha}-dirty" if changed else sha


def emit(bench: str, figure: str, value: float, unit: str, **case: object) -> None:
    """Print one figure as a JSON line on stdout (progress and notes go to stderr)."""
    line = {
        "bench": bench,
        "figure": figure,
        "value": round(value, 3) if isinstance(value, float) else value,
        "unit": unit,
        "commit": commit_id(),
        **case,
    }
    print(json.dumps(line, ensure_ascii=False), flush=True)


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(samples: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` between 0 and 1) of a non-empty sample."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def time_ms(
    function: Callable[[], object],
    repeat: int,
    warmup: int = 1,
    clock: Callable[[], float] = time.perf_counter,
) -> list[float]:
    """Times in milliseconds of ``repeat`` calls, after ``warmup`` untimed ones: wall times, or
    with ``clock=time.process_time`` this process's CPU time (SQLite's work included), which
    other processes on a busy machine disturb less."""
    for _ in range(warmup):
        function()
    samples = []
    for _ in range(repeat):
        started = clock()
        function()
        samples.append((clock() - started) * 1000)
    return samples


def csrf_token(html: str) -> str:
    """The first CSRF token in a page's forms."""
    found = CSRF_INPUT.search(html)
    if found is None:
        raise RuntimeError("no csrf_token field on the page")
    return found.group(1)
