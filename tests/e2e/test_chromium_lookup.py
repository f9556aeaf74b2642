"""Without Chromium the browser tests say so: skipped with the reason, or failed where a browser
is required (CI), never passed."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import chromium_path

NOWHERE = ("/nonexistent/chromium",)


def test_a_configured_chromium_is_used_first(tmp_path):
    binary = tmp_path / "chromium"
    binary.write_text("")
    found = chromium_path({"CRM_TEST_CHROMIUM": str(binary)}, default_paths=NOWHERE)
    assert found == str(binary)


def test_the_usual_places_are_looked_in_when_none_is_configured(tmp_path):
    binary = tmp_path / "chromium"
    binary.write_text("")
    assert chromium_path({}, default_paths=(*NOWHERE, str(binary))) == str(binary)


def test_without_chromium_the_browser_tests_are_skipped_with_the_reason():
    with pytest.raises(pytest.skip.Exception, match=r"apt-get install chromium"):
        chromium_path({"CRM_TEST_CHROMIUM": "/nonexistent/configured"}, default_paths=NOWHERE)


def test_without_chromium_a_run_that_requires_a_browser_fails():
    with pytest.raises(pytest.fail.Exception, match=r"CRM_REQUIRE_BROWSER=1"):
        chromium_path({"CRM_REQUIRE_BROWSER": "1"}, default_paths=NOWHERE)


def test_without_chromium_a_run_that_requires_its_clients_fails():
    with pytest.raises(pytest.fail.Exception, match=r"CRM_REQUIRE_CLIENTS=1"):
        chromium_path({"CRM_REQUIRE_CLIENTS": "1"}, default_paths=NOWHERE)
