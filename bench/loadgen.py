"""A small HTTP load generator on loopback: client processes, a thread per connection.

Two ways to load a server for a fixed time:

* closed loop (``rate=None``): every connection sends its next request as soon as the last
  answer arrives; with more connections than server workers this finds the maximum rate;
* open loop (``rate=R``): requests are due at a fixed schedule, R a second in total, whatever
  the server does. Latency counts from when a request was due, not from when it was sent, so
  a server that falls behind shows it (no coordinated omission).

Processes, not only threads, so that the client's own Python is not what limits the rate.
"""

from __future__ import annotations

import http.client
import multiprocessing
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from threading import Thread

# (connection index, request number) -> (path, body, headers)
RequestMaker = Callable[[int, int], tuple[str, bytes, dict[str, str]]]


@dataclass
class LoadResult:
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def completed(self) -> int:
        return len(self.latencies_ms)

    @property
    def rate(self) -> float:
        return self.completed / self.seconds

    def merge(self, other: LoadResult) -> None:
        self.latencies_ms += other.latencies_ms
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count


def run_load(
    port: int,
    make_request: RequestMaker,
    *,
    seconds: float,
    connections: int,
    processes: int = 2,
    rate: float | None = None,
    expect: int = 201,
) -> LoadResult:
    """Load ``127.0.0.1:port`` for ``seconds``; answers other than ``expect`` are counted apart
    and left out of the latencies."""
    start_at = time.time() + 0.5  # every process starts at the same moment
    jobs = [
        (port, make_request, seconds, start_at, list(range(p, connections, processes)), rate)
        for p in range(processes)
    ]
    context = multiprocessing.get_context("fork")
    with context.Pool(processes) as pool:
        parts = pool.starmap(_client_process, [(*job, connections, expect) for job in jobs])
    result = LoadResult(seconds=seconds)
    for part in parts:
        result.merge(part)
    return result


def _client_process(
    port: int,
    make_request: RequestMaker,
    seconds: float,
    start_at: float,
    indexes: list[int],
    rate: float | None,
    connections: int,
    expect: int,
) -> LoadResult:
    results = [LoadResult(seconds=seconds) for _ in indexes]
    # Every connection sends 1/connections of the rate, offset so the sends interleave.
    interval = connections / rate if rate else 0.0
    threads = [
        Thread(
            target=_connection,
            args=(port, make_request, index, start_at, seconds, interval, result, expect),
            kwargs={"offset": index / rate if rate else 0.0},
        )
        for index, result in zip(indexes, results, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = LoadResult(seconds=seconds)
    for result in results:
        total.merge(result)
    return total


def _connection(
    port: int,
    make_request: RequestMaker,
    index: int,
    start_at: float,
    seconds: float,
    interval: float,
    result: LoadResult,
    expect: int,
    *,
    offset: float,
) -> None:
    # Keep-alive where the server offers it; gunicorn's sync workers close after each answer,
    # and http.client then reconnects by itself.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    time.sleep(max(0.0, start_at - time.time()))
    began = time.perf_counter()
    stop = began + seconds
    number = 0
    while True:
        due = began + offset + number * interval if interval else time.perf_counter()
        if due >= stop:
            break
        wait = due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        path, body, headers = make_request(index, number)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            connection.close()
            status = 0
        finished = time.perf_counter()
        result.statuses[status] = result.statuses.get(status, 0) + 1
        if status == expect:
            result.latencies_ms.append((finished - due) * 1000)
        number += 1
    connection.close()
