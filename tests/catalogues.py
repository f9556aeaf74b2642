"""The gettext catalogues as the tests read them: what the code asks for, what each language has.

``make test`` compiles the catalogues first; a bare ``pytest`` run compiles any that changed
(``compile_catalogues``), so the app never answers from a stale .mo file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from crm import PROJECT_ROOT
from crm.platform.i18n import PREFIXED

CATALOGUES = PROJECT_ROOT / "crm" / "translations"
TEMPLATE = CATALOGUES / "messages.pot"
# The keywords the Makefile passes to pybabel extract, on top of gettext's usual ones.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
TAG = re.compile(r"</?([a-z]+)\b")


def po_path(code: str) -> Path:
    return CATALOGUES / code / "LC_MESSAGES" / "messages.po"


def read_catalogue(path: Path, code: str | None = None) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=code)


def extracted_msgids() -> dict[str | tuple[str, ...], list[str]]:
    """Every message the templates and code mark today (babel.cfg), with where each is."""
    with (PROJECT_ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str | tuple[str, ...], list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(PROJECT_ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        msgid = tuple(message) if isinstance(message, list | tuple) else message
        found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def tags(text: str) -> list[str]:
    return sorted(TAG.findall(text))


def compile_catalogues() -> None:
    """Write each language's .mo from its .po when the .po is newer, as ``make translations``."""
    for code in PREFIXED:
        source = po_path(code)
        if not source.is_file():
            continue
        target = source.with_suffix(".mo")
        if target.is_file() and target.stat().st_mtime_ns >= source.stat().st_mtime_ns:
            continue
        catalogue = read_catalogue(source, code)
        with target.open("wb") as file:
            write_mo(file, catalogue)


def translation(code: str, msgid: str) -> str:
    """The catalogue's words for ``msgid`` in ``code``. A missing catalogue or entry fails the
    test that asked: the tests expect the translators' wording, never a copy of it."""
    path = po_path(code)
    if not path.is_file():
        pytest.fail(f"no {code} catalogue at {path.relative_to(PROJECT_ROOT)}")
    message = read_catalogue(path, code).get(msgid)
    if message is None or not message.string or message.fuzzy:
        pytest.fail(f"{path.relative_to(PROJECT_ROOT)}: {msgid!r} is not translated")
    return str(message.string)


def forms(message: Message) -> Iterator[str]:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    yield from strings
