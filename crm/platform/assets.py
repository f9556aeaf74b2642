"""Static files served by the app itself, compressed and cached for as long as they stay the same.

At start-up every file under ``crm/static`` is copied into the instance folder twice: under its
own name and under a name carrying a hash of its content (``css/site.3f2a9c1b0d4e.css``), each
with gzip and brotli twins. ``url_for("static", ...)`` hands out the hashed name, which WhiteNoise
serves with a far-future ``immutable`` Cache-Control: a phone on a slow network pays once, and a
changed file gets a new name. The plain names stay reachable (old pages in caches, the share
image) with a short max-age.

A stylesheet's ``url(...)`` references to other static files (fonts) are rewritten to their
hashed names in the stylesheet's hashed copy, so they too are cached for good, and a changed font
gives its stylesheet a new name as well. The plain-named copy is left as written.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import tempfile
from pathlib import Path

from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

from crm.platform.security import BASE_HEADERS

# A 12-hex-digit content hash before the extension: the names this module makes.
FINGERPRINTED = re.compile(r"\.[0-9a-f]{12}\.[A-Za-z0-9]+$")
PLAIN_MAX_AGE = 3600  # an hour for the un-hashed names, which may change under the same URL
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")\s]+)\1\s*\)""")


def init_app(app: Flask) -> None:
    source = Path(app.static_folder or "")
    target = Path(app.instance_path) / "static-build"
    manifest = build(source, target)
    app.extensions["static_manifest"] = manifest

    @app.url_defaults
    def _fingerprinted_static(endpoint: str, values: dict[str, object]) -> None:
        if endpoint == "static":
            filename = values.get("filename")
            if isinstance(filename, str) and filename in manifest:
                values["filename"] = manifest[filename]

    app.wsgi_app = WhiteNoise(  # type: ignore[method-assign]
        app.wsgi_app,
        root=str(target),
        prefix=(app.static_url_path or "/static").strip("/") + "/",
        max_age=PLAIN_MAX_AGE,
        immutable_file_test=lambda _path, url: bool(FINGERPRINTED.search(url)),
        add_headers_function=_static_headers,
        allow_all_origins=False,
    )


def build(source: Path, target: Path) -> dict[str, str]:
    """Copy, fingerprint and compress; returns {plain name: fingerprinted name}.

    Each file is written once per content (a second worker starting finds it done) and through a
    temporary file and a rename, so two workers starting together never serve a half-written one.
    Stylesheets come last, so that every file they refer to already has its hashed name.
    """
    compressor = Compressor(quiet=True)
    manifest: dict[str, str] = {}
    files = [p for p in sorted(source.rglob("*")) if p.is_file() and not p.name.startswith(".")]
    for path in sorted(files, key=lambda p: p.suffix == ".css"):
        name = path.relative_to(source).as_posix()
        data = path.read_bytes()
        published = data
        if path.suffix == ".css":
            published = _fingerprint_references(data.decode(), name, manifest).encode()
        digest = hashlib.sha256(published).hexdigest()[:12]
        stem, dot, extension = name.rpartition(".")
        hashed = f"{stem}.{digest}.{extension}" if dot else f"{name}.{digest}"
        manifest[name] = hashed
        for destination, content in ((target / name, data), (target / hashed, published)):
            if destination.is_file() and destination.read_bytes() == content:
                continue
            _write(destination, content)
            if compressor.should_compress(destination.name):
                _compress(compressor, destination)
    return manifest


def _fingerprint_references(css: str, name: str, manifest: dict[str, str]) -> str:
    """``url(../fonts/a.woff2)`` becomes ``url(../fonts/a.<hash>.woff2)`` for files built so far."""
    folder = posixpath.dirname(name)

    def swap(match: re.Match[str]) -> str:
        quote, reference = match.group(1), match.group(2)
        path, mark, rest = reference.partition("#")
        if reference.startswith(("data:", "/", "#")) or "://" in reference or "?" in path:
            return match.group(0)
        hashed = manifest.get(posixpath.normpath(posixpath.join(folder, path)))
        if hashed is None:
            return match.group(0)
        swapped = path[: len(path) - len(posixpath.basename(path))] + posixpath.basename(hashed)
        return f"url({quote}{swapped}{mark}{rest}{quote})"

    return CSS_URL.sub(swap, css)


def _write(destination: Path, data: bytes) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=destination.parent, prefix=".tmp-")
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)
    os.replace(temporary, destination)


def _compress(compressor: Compressor, destination: Path) -> None:
    data = destination.read_bytes()
    for suffix, packed in (
        (".br", compressor.compress_brotli(data)),
        (".gz", compressor.compress_gzip(data)),
    ):
        # WhiteNoise serves a twin only when it exists; one that saves nothing is left out.
        if len(packed) < len(data) * 0.95:
            _write(destination.with_name(destination.name + suffix), packed)


def _static_headers(headers, _path: str, _url: str) -> None:  # type: ignore[no-untyped-def]
    # These responses never reach Flask's after_request, which sets them on every page.
    for name, value in BASE_HEADERS.items():
        headers[name] = value
