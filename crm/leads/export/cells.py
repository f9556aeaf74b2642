"""What an export cell may hold: text that never runs as a formula, phones that stay text.

A spreadsheet runs a CSV cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, so
such text gets a leading apostrophe in a CSV (``neutralise``). An XLSX cell has a type, and
a string cell is never a formula: there the text stays exactly as typed.

Phone numbers go out in the spaced international form (``spreadsheet_phone``), the same in
both formats. A CSV cell ``+919845011001`` is a number to Calc and Excel: they drop the
``+`` (and Excel shows 9.19845E+11). ``+91 98450 11001`` is neither a number (digits in groups
of five are no thousands grouping) nor a formula Excel could run (a number, a space and a
number do not parse), so every spreadsheet keeps it as typed, and it is how staff read numbers
aloud and how the CRM's pages show them (``display_phone``).

Formatting with ``phonenumbers`` costs about 30 microseconds a number, more than the rest of
an export row. Which grouping a number gets depends only on its country code, its length
and its first few national digits (the metadata's leading-digit patterns; every grouping
pattern is digits only), so the grouping is worked out once per such prefix and reused. The
memo holds numbering-plan prefixes (a country code and at most seven digits, shared by a
thousand subscribers or more), never whole numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from operator import itemgetter

import phonenumbers
from phonenumbers import PhoneMetadata

# A spreadsheet treats a cell starting with one of these as a formula (or, for tab and CR,
# strips them and looks again).
FORMULA_TRIGGERS = frozenset("=+-@\t\r")

_COUNTRY_CODES = frozenset(str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
_DIGIT_GROUPS = re.compile(r"(?:\(\\d(?:\{\d+(?:,\d+)?\})?\))+")
_MEMO_SIZE = 20_000

# A number's layout: a %-template of its separators and the slices of its digits that fill
# it; ("+%s %s %s", 0:2, 2:7, 7:12) lays 919845011001 out as +91 98450 11001.
Layout = tuple[str, Callable[[str], tuple[str, ...]]]
_layouts: dict[tuple[int, str], Layout] = {}


def neutralise(value: str) -> str:
    """For a CSV: a cell a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + value if value[:1] in FORMULA_TRIGGERS else value


def spreadsheet_phone(e164: str) -> str:
    """A stored phone number (E.164) as an export cell: ``+91 98450 11001``.

    The same form in CSV and XLSX. Text that is not an E.164 number (never stored: the intake
    only keeps valid numbers) comes back neutralised, so it can never run as a formula.
    """
    digits = e164[1:]
    if e164[:1] != "+" or not (digits.isascii() and digits.isdigit()):
        return neutralise(e164)
    cut = _deciding_digits(digits[:3])
    key = (len(digits), digits[:cut]) if cut else None
    layout = _layouts.get(key) if key else None
    if layout is not None:
        template, pick = layout
        return template % pick(digits)
    formatted = _international(e164)
    if formatted is None:
        return neutralise(e164)
    layout = _layout_of(formatted, digits)
    if key and layout is not None:
        if len(_layouts) >= _MEMO_SIZE:
            _layouts.clear()
        _layouts[key] = layout
    return formatted


def _international(e164: str) -> str | None:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    # The space after the country code is what keeps the cell text; never give it up.
    return formatted if " " in formatted else None


def _layout_of(formatted: str, digits: str) -> Layout | None:
    pieces = re.split(r"(\d+)", formatted)
    runs = pieces[1::2]
    if "".join(runs) != digits:
        return None  # formatting changed the digits: no layout to reuse
    slices = []
    start = 0
    for run in runs:
        slices.append(slice(start, start + len(run)))
        start += len(run)
    template = "%s".join(piece.replace("%", "%%") for piece in pieces[0::2])
    pick = itemgetter(*slices)
    if len(slices) == 1:
        return template, lambda digits: (pick(digits),)
    return template, pick


@cache
def _deciding_digits(first_three: str) -> int | None:
    """How many leading digits (country code included) decide the grouping of a number that
    starts with these three, or None when the metadata cannot tell."""
    # Country codes are prefix-free: at most one of the first one, two or three digits is one.
    codes = [first_three[:size] for size in (1, 2, 3) if first_three[:size] in _COUNTRY_CODES]
    if not codes:
        return None
    code = codes[0]
    depth = _leading_digits(code)
    return None if depth is None else len(code) + depth


@cache
def _leading_digits(code: str) -> int | None:
    """How many national digits decide a number's grouping in this country, or None when that
    cannot be told from the metadata (then every number is formatted by ``phonenumbers``)."""
    calling_code = int(code)
    region = phonenumbers.region_code_for_country_code(calling_code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(calling_code, region)
    if metadata is None:
        return None
    formats = [*metadata.number_format, *metadata.intl_number_format]
    if not all(_DIGIT_GROUPS.fullmatch(each.pattern) for each in formats):
        return None  # a grouping that looks at particular digits, not only at the length
    try:
        from re import _parser  # the regular expression parser's width of a pattern

        widths = [
            _parser.parse(each.leading_digits_pattern[-1]).getwidth()[1]
            for each in formats
            if each.leading_digits_pattern
        ]
    except Exception:  # without the parser, every number is formatted in full
        return None
    deepest = max(widths, default=0)
    return deepest if deepest <= 7 else None
