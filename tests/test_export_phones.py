"""Phone numbers in exports: the spaced international form, the same as ``phonenumbers``
gives (and the CRM's pages show), also when the grouping comes from the per-prefix memo."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from crm.leads.export import cells, spreadsheet_phone


def international(e164: str) -> str:
    number = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def numbers_of_every_kind() -> list[str]:
    """Every region's example numbers of every type, and variants of each with other digits
    after the first few (numbers sharing a prefix, which is what the memo keys on)."""
    rng = random.Random(20261101)
    examples = [
        phonenumbers.example_number_for_type(region, kind)
        for region in sorted(phonenumbers.SUPPORTED_REGIONS)
        for kind in range(12)  # PhoneNumberType: fixed line, mobile, toll free, ...
    ]
    examples += [
        phonenumbers.example_number_for_non_geo_entity(code)
        for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS)
    ]
    found = []
    for example in filter(None, examples):
        e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        found.append(e164)
        for _ in range(3):
            keep = rng.randrange(5, len(e164))
            tail = "".join(rng.choice("0123456789") for _ in range(len(e164) - keep))
            found.append(e164[:keep] + tail)
    return [e164 for e164 in found if parses(e164)]


def parses(e164: str) -> bool:
    try:
        phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return True


def test_every_country_is_grouped_as_phonenumbers_groups_it(monkeypatch):
    cells._plan.cache_clear()
    cells._country_plan.cache_clear()
    formatted = []
    real = cells._international

    def counted(e164: str) -> str | None:
        formatted.append(e164)
        return real(e164)

    monkeypatch.setattr(cells, "_international", counted)
    numbers = numbers_of_every_kind()
    assert len(numbers) > 3000
    expected = [international(e164) for e164 in numbers]
    assert [spreadsheet_phone(e164) for e164 in numbers] == expected
    first_pass = len(formatted)
    assert [spreadsheet_phone(e164) for e164 in numbers] == expected
    # The second time round, nearly every number is laid out from what was learned the first.
    assert len(formatted) - first_pass < len(numbers) / 20 < first_pass


def test_an_indian_mobile_number_is_laid_out_without_phonenumbers(monkeypatch):
    spreadsheet_phone("+919845012345")
    monkeypatch.setattr(cells, "_international", None)  # would fail if called
    assert spreadsheet_phone("+917702212345") == "+91 77022 12345"


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+919845012345", "+91 98450 12345"),  # an Indian mobile
        ("+914023456789", "+91 40 2345 6789"),  # a Hyderabad landline
        ("+918023456789", "+91 80 2345 6789"),  # a Bengaluru landline
        ("+14155550123", "+1 415-555-0123"),
        ("+390612345678", "+39 06 1234 5678"),  # Italy keeps its leading zero
    ],
)
def test_numbers_are_spaced_after_the_country_code(stored, shown):
    assert spreadsheet_phone(stored) == shown


@pytest.mark.parametrize("text", ["=1+2", "+91", "-5", "@x", "+91 98450", "98450 12345"])
def test_text_that_is_not_a_stored_number_can_never_run_as_a_formula(text):
    cell = spreadsheet_phone(text)
    assert cell in (text, "'" + text)
    assert not cell.startswith(("=", "-", "@")) and cell.replace("'", "") == text


def test_a_column_of_numbers_is_laid_out_as_each_number_is():
    """The export lays out a batch's phones in one pass that skips to remembered layouts."""
    numbers = numbers_of_every_kind()
    numbers += [None, "", "=1+2", "+91", "+91 98450", "+9198450x2345", "+٩١٩٨٤٥٠١٢٣٤٥"]
    expected = [spreadsheet_phone(e164) if e164 else "" for e164 in numbers]
    assert cells.spreadsheet_phones(numbers) == expected
    assert cells.spreadsheet_phones(numbers) == expected  # now from the remembered layouts
    assert cells.spreadsheet_phones(reversed(numbers)) == expected[::-1]
