"""How fast ``crm export`` writes a million leads of one branch as CSV, and in how much memory.

    .venv/bin/python bench/export_bench.py [--leads 1000000] [--runs 3]

Needs the SQLite command-line shell for the comparison (Debian: ``apt-get install sqlite3``).

Builds (once) a SQLite database where every lead belongs to Bengaluru, then times:

* ``crm export --branch bengaluru --status any --output FILE``: the real command, in a child
  process, so the figures include start-up, the query, shaping every row (labels, branch-time
  dates, formula neutralisation) and writing the file. Peak memory is the child's maximum
  resident set size (``wait4``): the whole process, interpreter and libraries included.
* ``sqlite3 -csv -header`` running the export's own row query (compiled from
  ``crm.leads.export.rows.lead_rows``) wrapped to produce the same columns: reference, dates
  shifted to branch time, branch city and assignee name joined in, the next appointment and
  its outcomes' counts. No labels, no neutralisation:
  the floor of what reading these rows and writing CSV can cost.

Prints rows per second, peak memory and the time ratio as JSON lines (issue 18's goals: under
100 MB, within 2x).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchkit import RESULTS, emit, note
from dataset import build  # bench/ is on sys.path when this file is run

from crm import create_app
from crm.leads.export.filters import resolve
from crm.leads.export.rows import lead_rows
from crm.leads.filters import ANY, LeadFilters
from crm.models import Role, StaffUser
from crm.platform.database import utcnow
from crm.platform.extensions import db

BENCH = "export"
CRM = Path(sys.executable).with_name("crm")
SHIFT = "'+330 minutes'"  # Asia/Kolkata, the benchmark branch's zone (no daylight saving)


def sqlite3_query(database: Path) -> str:
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "SECRET_KEY": "bench"})
    with app.app_context():
        # Every status, spam too: the whole branch, as the command below exports it.
        scope = resolve(
            StaffUser(role=Role.ADMIN), LeadFilters(branch="bengaluru", status=ANY), utcnow()
        )
        rows = lead_rows(scope.query, utcnow()).compile(
            db.engine, compile_kwargs={"literal_binds": True}
        )
        db.engine.dispose()
    local = "strftime('%Y-%m-%d %H:%M', q.{column}, " + SHIFT + ")"
    # Built from the export's own compiled query and constants: nothing here comes from input.
    return (
        "SELECT printf('L-%06d', q.id) AS reference, "  # noqa: S608
        f"{local.format(column='created_at')} AS created, q.name, q.phone, q.email, "
        "b.city AS branch, q.interest, q.status, q.lost_reason, s.name AS assignee, "
        f"{local.format(column='first_response_at')} AS first_response, "
        f"{local.format(column='next_follow_up_at')} AS next_follow_up, q.enquiry_count, "
        "q.first_source_page, q.last_source_page, q.utm_source, q.utm_medium, q.utm_campaign, "
        "q.latest_message, "
        f"{local.format(column='next_appointment_at')} AS next_appointment, "
        "q.next_appointment_kind, q.next_appointment_clinician, q.appointments_attended, "
        f"q.no_shows FROM ({rows}) AS q JOIN branch AS b ON b.id = q.branch_id "
        "LEFT JOIN staff_user AS s ON s.id = q.assignee_id "
        # In reference order, as the export: without it SQLite may drop the inner query's
        # order and plan the wrapped query differently (slower), which flattered the ratio.
        "ORDER BY q.id"
    )


def run(command: list[str], stdout, env: dict[str, str]) -> tuple[float, float, int, str]:
    """Wall time and CPU time (s), peak resident memory (MB) and standard error of a child."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(command, stdout=stdout, stderr=errors, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        message = errors.read().decode()
    if child.returncode:
        raise SystemExit(f"{command[0]} failed: {message}")
    cpu = usage.ru_utime + usage.ru_stime
    return elapsed, cpu, usage.ru_maxrss // 1024, message.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sqlite3 = shutil.which("sqlite3")
    if sqlite3 is None:
        raise SystemExit(
            "The export benchmark compares with the sqlite3 command-line shell, which is not"
            " installed: apt-get install sqlite3 (Debian, Ubuntu) or brew install sqlite (macOS)"
        )
    RESULTS.mkdir(exist_ok=True)
    database = build(RESULTS / f"export-{args.leads}.sqlite3", args.leads, branch_share=1.0)
    query = sqlite3_query(database)
    workdir = Path(tempfile.mkdtemp(prefix="export-bench-"))
    env = {
        **os.environ,
        "CRM_SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
        "CRM_INSTANCE_PATH": str(workdir),
        "CRM_SECRET_KEY": "bench",
    }
    ours_csv = workdir / "ours.csv"
    theirs_csv = workdir / "sqlite3.csv"
    ours, theirs, ours_cpu, theirs_cpu, memory = [], [], [], [], []
    try:
        for _ in range(args.runs):
            with theirs_csv.open("wb") as out:
                sqlite3_command = [sqlite3, "-csv", "-header", str(database), query]
                seconds, cpu, _, _ = run(sqlite3_command, out, env)
            theirs.append(seconds)
            theirs_cpu.append(cpu)
            command = [str(CRM), "export", "--branch", "bengaluru", "--status", ANY]
            command += ["--output", str(ours_csv)]
            seconds, cpu, peak, said = run(command, subprocess.DEVNULL, env)
            ours.append(seconds)
            ours_cpu.append(cpu)
            memory.append(peak)
        ours_rows = sum(1 for _ in ours_csv.open(encoding="utf-8-sig")) - 1
        theirs_rows = sum(1 for _ in theirs_csv.open(encoding="utf-8")) - 1
        ours_size = ours_csv.stat().st_size / 1e6
        theirs_size = theirs_csv.stat().st_size / 1e6
    finally:
        shutil.rmtree(workdir)

    ours_time, theirs_time = statistics.median(ours), statistics.median(theirs)
    ours_cpu_time, theirs_cpu_time = statistics.median(ours_cpu), statistics.median(theirs_cpu)
    case = {"leads": args.leads, "runs": args.runs}
    emit(BENCH, "rows_per_second", ours_rows / ours_time, "rows/s", tool="crm export", **case)
    emit(BENCH, "rows_per_second", theirs_rows / theirs_time, "rows/s", tool="sqlite3", **case)
    emit(BENCH, "seconds", ours_time, "s", tool="crm export", **case)
    emit(BENCH, "seconds", theirs_time, "s", tool="sqlite3", **case)
    emit(BENCH, "time_ratio", ours_time / theirs_time, "x", **case)
    # CPU time is steadier than wall time on a busy machine; both are reported.
    emit(BENCH, "cpu_ratio", ours_cpu_time / theirs_cpu_time, "x", **case)
    emit(BENCH, "peak_memory", max(memory), "MB", tool="crm export", **case)
    emit(BENCH, "file_size", ours_size, "MB", tool="crm export", **case)
    emit(BENCH, "file_size", theirs_size, "MB", tool="sqlite3", **case)
    note(f"  crm export: {ours_rows:,} rows ({said}); each run (s): {fmt(ours)}")
    note(f"  crm export peak memory of each run (MB): {' '.join(map(str, memory))}")
    note(f"  sqlite3:    {theirs_rows:,} rows; each run (s): {fmt(theirs)}")


def fmt(seconds: list[float]) -> str:
    return " ".join(f"{value:.1f}" for value in seconds)


if __name__ == "__main__":
    main()
