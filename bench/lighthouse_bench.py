"""Lighthouse 12.2.3 (mobile preset) on the home page and the acupressure article.

    (cd bench/lighthouse && npm i -E lighthouse@12.2.3)   # once; the folder is git-ignored
    .venv/bin/python bench/lighthouse_bench.py [--runs 3]

The app runs on a fresh SQLite database in a temporary folder, served over loopback HTTP with
its own static files (fingerprinted, brotli/gzip) and the HTML gzipped as the README's proxy
does (``--no-proxy-gzip`` to leave the HTML uncompressed). Lighthouse drives Debian's Chromium
(``CHROME_PATH``, default /usr/bin/chromium) with its default mobile emulation and simulated
throttling. One JSON line per category score (0-100) and page, the median of the runs.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from benchkit import PROJECT, emit, note
from flask_migrate import upgrade
from werkzeug.serving import make_server

from crm import create_app
from crm.clinic.seed import seed_branches
from crm.platform.extensions import db

BENCH = "lighthouse"
VERSION = "12.2.3"
PAGES = {"home": "/", "article": "/blog/acupressure-points-for-back-pain"}
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
LIGHTHOUSE = PROJECT / "bench" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --no-first-run"


class GzipHtml:
    """What the README's nginx does for pages: gzip text/html when the browser accepts it."""

    def __init__(self, app, level: int = 5) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.level = level

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        accepts = "gzip" in environ.get("HTTP_ACCEPT_ENCODING", "")
        captured: dict[str, object] = {}

        def capture(status, headers, exc_info=None):  # type: ignore[no-untyped-def]
            captured.update(status=status, headers=headers)
            return lambda _data: None

        body: Iterable[bytes] = self.app(environ, capture)
        try:
            data = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        headers = list(captured["headers"])  # type: ignore[call-overload]
        kind = next((v for k, v in headers if k.lower() == "content-type"), "")
        encoded = any(k.lower() == "content-encoding" for k, _v in headers)
        if accepts and kind.startswith("text/html") and not encoded and len(data) > 1024:
            data = gzip.compress(data, compresslevel=self.level)
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers += [
                ("Content-Encoding", "gzip"),
                ("Content-Length", str(len(data))),
                ("Vary", "Accept-Encoding"),
            ]
        start_response(captured["status"], headers)
        return [data]


def lighthouse(url: str, chrome: str) -> dict[str, float]:
    if not LIGHTHOUSE.exists():
        raise SystemExit(
            f"Lighthouse is not installed: (cd bench/lighthouse && npm i -E lighthouse@{VERSION})"
        )
    result = subprocess.run(
        [
            str(LIGHTHOUSE),
            url,
            "--output=json",
            "--output-path=stdout",
            "--quiet",
            f"--only-categories={','.join(CATEGORIES)}",
            f"--chrome-flags={CHROME_FLAGS}",
        ],
        env={**os.environ, "CHROME_PATH": chrome},
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    report = json.loads(result.stdout)
    if report["lighthouseVersion"] != VERSION:
        raise SystemExit(f"expected Lighthouse {VERSION}, found {report['lighthouseVersion']}")
    failing = [
        audit_id
        for audit_id, audit in report["audits"].items()
        if audit.get("score") is not None
        and audit["score"] < 1
        and audit.get("scoreDisplayMode") in ("binary", "metricSavings")
    ]
    if failing:
        note(f"    {url}: audits below full marks: {', '.join(sorted(failing))}")
    return {name: report["categories"][name]["score"] * 100 for name in CATEGORIES}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-proxy-gzip", action="store_true")
    args = parser.parse_args()
    chrome = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
    with tempfile.TemporaryDirectory(prefix="lighthouse-bench-") as folder:
        os.environ["CRM_INSTANCE_PATH"] = str(Path(folder) / "instance")
        server = make_server("127.0.0.1", 0, None, threaded=True)  # type: ignore[arg-type]
        base = f"http://127.0.0.1:{server.socket.getsockname()[1]}"
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'crm.sqlite3'}",
                "SECRET_KEY": "bench",
                "SITE_URL": base,
            }
        )
        with app.app_context():
            upgrade()
            seed_branches()
        server.app = app if args.no_proxy_gzip else GzipHtml(app)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            for name, path in PAGES.items():
                runs = [lighthouse(f"{base}{path}", chrome) for _ in range(args.runs)]
                scores = {c: statistics.median(run[c] for run in runs) for c in CATEGORIES}
                for category, score in scores.items():
                    emit(
                        BENCH,
                        f"{category}_score",
                        score,
                        "points",
                        page=name,
                        path=path,
                        lighthouse=VERSION,
                        preset="mobile",
                        proxy_gzip=not args.no_proxy_gzip,
                    )
                note(
                    f"  {name:<8} "
                    + "  ".join(f"{c} {scores[c]:.0f}" for c in CATEGORIES)
                    + f"  ({args.runs} runs)"
                )
        finally:
            server.shutdown()
            with app.app_context():
                if "page_views" in app.extensions:  # the views Lighthouse made, before the
                    from crm.site.page_views import flush  # database folder goes away

                    flush(app)
                db.engine.dispose()


if __name__ == "__main__":
    main()
