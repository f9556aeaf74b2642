"""Every string a patient reads is in the Kannada, Telugu and Hindi catalogues, translated.

The messages are extracted now, in-process, from the same templates and code as
``make translations-extract`` (babel.cfg), so a string added without a translation fails here.
"""

from __future__ import annotations

import pytest

from crm.platform.i18n import PREFIXED
from tests.catalogues import (
    TEMPLATE,
    extracted_msgids,
    forms,
    placeholders,
    po_path,
    read_catalogue,
    tags,
)


@pytest.fixture(scope="module")
def extracted() -> dict[str | tuple[str, ...], list[str]]:
    return extracted_msgids()


def test_strings_are_whole_and_the_template_is_current(extracted) -> None:
    assert len(extracted) > 150
    assert "" not in extracted
    template = read_catalogue(TEMPLATE)
    in_template = {message.id for message in template if message.id}
    missing = sorted(str(msgid) for msgid in extracted.keys() - in_template)
    assert not missing, f"run `make translations-extract`; messages.pot lacks {missing}"
    stale = sorted(str(msgid) for msgid in in_template - extracted.keys())
    assert not stale, f"run `make translations-extract`; messages.pot still has {stale}"
    # A staff page's words never reach the catalogue (staff pages stay in English).
    assert not [place for places in extracted.values() for place in places if "staff" in place]


@pytest.mark.parametrize("code", PREFIXED)
def test_every_string_is_translated_with_the_same_placeholders(code: str, extracted) -> None:
    path = po_path(code)
    assert path.is_file(), f"no {code} catalogue: `pybabel init -l {code}` then translate"
    catalogue = read_catalogue(path, code)
    assert str(catalogue.locale) == code
    problems: list[str] = []
    for msgid, places in sorted(extracted.items(), key=lambda item: str(item[0])):
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        message = catalogue.get(key)
        where = places[0]
        if message is None:
            problems.append(f"{where}: missing {key!r}")
            continue
        if message.fuzzy:
            problems.append(f"{where}: fuzzy {key!r}")
        original = msgid[-1] if isinstance(msgid, tuple) else msgid
        for text in forms(message):
            if not text or not text.strip():
                problems.append(f"{where}: untranslated {key!r}")
                continue
            # A plural's forms may leave out the count (Hindi's "one" form, for example).
            expected, found = placeholders(original), placeholders(text)
            if found != expected and not (isinstance(msgid, tuple) and found == expected - {"num"}):
                problems.append(f"{where}: placeholders {sorted(found)} in {text!r}")
            if tags(text) != tags(original):
                problems.append(f"{where}: markup {tags(text)} in {text!r}")
    assert not problems, f"{code}: {len(problems)} problems:\n" + "\n".join(problems)
