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
an export row. The grouping it picks depends only on the country code, the number's length
and which of the country's formats first matches the number's leading digits (every grouping
pattern is digits only). That choice is made here the way ``phonenumbers`` makes it, and the
grouping of each (country, length, format) is taken once from ``phonenumbers`` and reused.
Trying a country's leading-digit patterns still costs a few microseconds, so the choice is
also remembered per leading digits: at most the few (seven at most, five for India) that the
patterns can look at, a numbering-plan block shared by a thousand numbers or more, never a
whole number. ``spreadsheet_phones`` does a column of numbers, going straight from a number's
leading digits to a remembered layout when nothing else about the number can change it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from operator import itemgetter

import phonenumbers
from phonenumbers import PhoneMetadata

# A spreadsheet treats a cell starting with one of these as a formula (or, for tab and CR,
# strips them and looks again).
FORMULA_TRIGGERS = frozenset("=+-@\t\r")

_COUNTRY_CODES = frozenset(str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
_DIGIT_GROUPS = re.compile(r"(?:\(\\d(?:\{\d+(?:,\d+)?\})?\))+")
_DEEPEST_PREFIX = 7
_PREFIXES_KEPT = 50_000
_LOOKAROUND = re.compile(r"\(\?<?[=!]")

# A number's layout: a %-template of its separators and the slices of its digits that fill
# it; ("+%s %s %s", 0:2, 2:7, 7:12) lays 919845011001 out as +91 98450 11001.
Layout = tuple[str, Callable[[str], tuple[str, ...]]]


@dataclass(slots=True)
class _Plan:
    """How ``phonenumbers`` lays out the numbers of one country code and length."""

    code_size: int
    national_prefix: re.Pattern[str] | None  # what parsing would strip as a national prefix
    formats: tuple[tuple[int, re.Pattern[str] | None], ...]  # fitting ones: index, leading
    prefix_size: int | None  # leading digits that decide the format, None if unknown
    # Whether the national prefix test looks at no more digits than ``prefix_size``: then a
    # remembered prefix also says that the test failed, and the number needs nothing else.
    prefix_decides: bool
    layouts: dict[int, Layout] = field(default_factory=dict)  # by format index (-1: none)
    by_prefix: dict[str, Layout] = field(default_factory=dict)

    def choose(self, national: str) -> int:
        return next(
            (index for index, leading in self.formats if not leading or leading.match(national)),
            -1,
        )


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
    plan = _plan(digits[:3], len(digits))
    if plan is None:
        return _international(e164) or neutralise(e164)
    national = digits[plan.code_size :]
    if plan.national_prefix is not None and plan.national_prefix.match(national):
        # Parsing may take these digits for a national prefix and drop them.
        return _international(e164) or neutralise(e164)
    prefix = national[: plan.prefix_size] if plan.prefix_size is not None else None
    layout = plan.by_prefix.get(prefix) if prefix is not None else None
    if layout is None:
        index = plan.choose(national)
        layout = plan.layouts.get(index)
        if layout is None:
            formatted = _international(e164)
            layout = _layout_of(formatted, digits) if formatted else None
            if layout is None:
                return formatted or neutralise(e164)
            plan.layouts[index] = layout
        if prefix is not None:
            if len(plan.by_prefix) >= _PREFIXES_KEPT:
                plan.by_prefix.clear()
            plan.by_prefix[prefix] = layout
    template, pick = layout
    return template % pick(digits)


# By a number's first four characters ("+919") and length: where its deciding digits are
# (from, to), the layouts remembered for them, and the texts of heads seen (below). Only
# plans whose deciding digits decide everything.
_BY_HEAD: dict[tuple[str, int], tuple[int, int, dict[str, Layout], dict[str, str]]] = {}
_TAIL = "abcdefghijklmnopqrstuvwxyz"


def spreadsheet_phones(numbers: Iterable[str | None]) -> list[str]:
    """``spreadsheet_phone`` of each stored number, "" for none, for a column of them.

    A number whose deciding digits were seen before (in a plan they decide) is laid out from
    lookups; any other goes through ``spreadsheet_phone``, which remembers its layout. Where a
    layout leaves the digits after the deciding ones as they are, at the end (an Indian mobile:
    "+91 98450 " and the last five), the head's text is kept and the rest appended.
    """
    cells = []
    append = cells.append
    by_head = _BY_HEAD
    for e164 in numbers:
        if not e164:
            append("")
            continue
        known = by_head.get((e164[:4], len(e164)))
        if known is not None:
            start, end, layouts, heads = known
            tail = e164[end:]
            if tail.isascii() and tail.isdigit():  # the head's digits are a key's
                text = heads.get(e164[:end])
                if text is not None:
                    append(text + tail)
                    continue
                layout = layouts.get(e164[start:end])
                if layout is not None:
                    digits = e164[1:]
                    append(layout[0] % layout[1](digits))
                    _remember_head(heads, e164[:end], layout, digits[: end - 1], len(tail))
                    continue
        append(spreadsheet_phone(e164))
    return cells


def _remember_head(
    heads: dict[str, str], head: str, layout: Layout, digits: str, rest: int
) -> None:
    """Keeps the text of ``head`` if its layout puts the ``rest`` digits after it, unchanged,
    at the end: found by laying out letters in their place."""
    letters = _TAIL[:rest]
    if len(letters) < rest:
        return
    template, pick = layout
    shown = template % pick(digits + letters)
    text = shown[: len(shown) - rest]
    if shown.endswith(letters) and not set(text) & set(letters):
        if len(heads) >= _PREFIXES_KEPT:
            heads.clear()
        heads[head] = text


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
def _plan(first_three: str, length: int) -> _Plan | None:
    # Country codes are prefix-free: at most one of the first one, two or three digits is one.
    codes = [first_three[:size] for size in (1, 2, 3) if first_three[:size] in _COUNTRY_CODES]
    plan = _country_plan(codes[0], length) if codes else None
    if plan is not None and plan.prefix_size is not None and plan.prefix_decides:
        start = 1 + plan.code_size
        end = start + plan.prefix_size
        _BY_HEAD["+" + first_three, length + 1] = (start, end, plan.by_prefix, {})
    return plan


@cache
def _country_plan(code: str, length: int) -> _Plan | None:
    """The formats ``phonenumbers`` tries, in order, for the international form of a number
    of ``length`` digits: the country's international formats if it has any, else its
    national ones; of those, the ones whose grouping fits the length."""
    calling_code = int(code)
    region = phonenumbers.region_code_for_country_code(calling_code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(calling_code, region)
    if metadata is None:
        return None
    formats = metadata.intl_number_format or metadata.number_format
    if not all(_DIGIT_GROUPS.fullmatch(each.pattern) for each in formats):
        return None  # a grouping that looks at particular digits, not only at the length
    national = "0" * (length - len(code))
    fitting = [
        (index, each.leading_digits_pattern[-1] if each.leading_digits_pattern else None)
        for index, each in enumerate(formats)
        if re.fullmatch(each.pattern, national)
    ]
    prefix = metadata.national_prefix_for_parsing
    deciding = _deciding_digits([lead for _, lead in fitting if lead])
    prefix_width = _deciding_digits([prefix]) if prefix else 0
    return _Plan(
        code_size=len(code),
        national_prefix=re.compile(prefix) if prefix else None,
        # The last of a format's leading-digit patterns is the most specific; it decides.
        formats=tuple((index, re.compile(lead) if lead else None) for index, lead in fitting),
        prefix_size=deciding,
        prefix_decides=(
            deciding is not None
            and prefix_width is not None
            and prefix_width <= deciding
            and not _LOOKAROUND.search(prefix or "")
        ),
    )


def _deciding_digits(patterns: list[str]) -> int | None:
    """The most digits any of these leading-digit patterns can look at, or None if that is
    unbounded or cannot be told (then the choice is made afresh for every number)."""
    try:
        from re import _parser  # the regular expression parser, which knows a pattern's width

        deepest = max((_parser.parse(pattern).getwidth()[1] for pattern in patterns), default=0)
    except Exception:  # without it, every number's format is chosen afresh
        return None
    return deepest if deepest <= _DEEPEST_PREFIX else None
