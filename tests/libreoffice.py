"""LibreOffice Calc, headless: open files the way a person's spreadsheet would and save them as
something a test can read back (``soffice --headless --convert-to``)."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path

from tests.clients import find_client

SOFFICE_PATHS = ("/usr/bin/soffice", "/usr/lib/libreoffice/program/soffice")
MISSING_SOFFICE = (
    "The spreadsheet tests need LibreOffice Calc: install it "
    "(apt-get install libreoffice-calc-nogui) or set CRM_TEST_SOFFICE to a soffice binary."
)
# A first start builds the profile, which takes a while on a busy machine.
CONVERT_TIMEOUT = 300


def soffice_path(environ: Mapping[str, str] = os.environ) -> str:
    return find_client("CRM_TEST_SOFFICE", SOFFICE_PATHS, MISSING_SOFFICE, environ)


def convert(
    files: list[Path], target: str, outdir: Path, profile: Path, infilter: str | None = None
) -> list[Path]:
    """Every file opened by LibreOffice (with the import filter and options of ``infilter``,
    else its defaults for the file type), then saved as ``target`` (``xlsx``, ``pdf``...) in
    ``outdir``.

    ``profile`` is a fresh user profile for this run: two soffice processes sharing one would
    hand their work to each other, or refuse to start.
    """
    outdir.mkdir(parents=True, exist_ok=True)
    command = [
        soffice_path(),
        f"-env:UserInstallation={profile.resolve().as_uri()}",
        "--headless",
        "--norestore",
        *([f"--infilter={infilter}"] if infilter else []),
        "--convert-to",
        target,
        "--outdir",
        str(outdir),
        *(str(path) for path in files),
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=CONVERT_TIMEOUT, check=False
    )
    results = [outdir / f"{path.stem}.{target.split(':')[0]}" for path in files]
    missing = [str(path) for path in results if not path.exists()]
    assert not missing, f"soffice made no {missing}: {done.returncode} {done.stdout} {done.stderr}"
    return results


def csv_import(*, language: int, special_numbers: bool, formulas: bool) -> str:
    """Calc's CSV import filter with its own defaults but for the options named here: comma,
    double quotes, UTF-8 (what a byte-order mark says), from line 1, every column Standard
    (detected), ``language`` (a Windows language id) for numbers and dates."""
    # The filter's tokens, in order: separator, quote, character set, first line, column
    # types, language, quoted field as text, detect special numbers (dates, times), three
    # export-only settings, evaluate formulas.
    flags = ("false", str(special_numbers).lower(), "false", "false", "false", "false")
    return f"CSV:44,34,76,1,,{language},{','.join(flags)},{str(formulas).lower()}"


def pdf_pages(path: Path) -> list[tuple[float, float]]:
    """The width and height of every page of a PDF that LibreOffice wrote (uncompressed page
    objects, one ``/Type /Page`` each, each with its ``/MediaBox``)."""
    data = path.read_bytes()
    pages = re.findall(rb"/Type\s*/Page(?![s\w])(.*?)>>", data, flags=re.DOTALL)
    sizes = []
    for body in pages:
        box = re.search(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", body)
        assert box, f"a page without a MediaBox in {path}"
        x0, y0, x1, y1 = (float(value) for value in box.groups())
        sizes.append((x1 - x0, y1 - y0))
    return sizes
