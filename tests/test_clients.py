"""Without an external client (Chromium, LibreOffice) its tests say so: skipped with the
reason, or failed where the run requires its clients (CI), never passed."""

from __future__ import annotations

import pytest

from tests.clients import find_client
from tests.libreoffice import MISSING_SOFFICE

NOWHERE = ("/nonexistent/soffice",)


def test_a_configured_client_is_used_before_the_usual_places(tmp_path):
    binary = tmp_path / "soffice"
    binary.write_text("")
    usual = tmp_path / "usual"
    usual.write_text("")
    configured = {"CRM_TEST_SOFFICE": str(binary)}
    found = find_client("CRM_TEST_SOFFICE", (str(usual),), MISSING_SOFFICE, configured)
    assert found == str(binary)
    found = find_client("CRM_TEST_SOFFICE", (*NOWHERE, str(usual)), MISSING_SOFFICE, {})
    assert found == str(usual)


def test_a_missing_client_skips_its_tests_with_how_to_install_it():
    with pytest.raises(pytest.skip.Exception, match=r"apt-get install libreoffice-calc-nogui"):
        find_client("CRM_TEST_SOFFICE", NOWHERE, MISSING_SOFFICE, {"CRM_REQUIRE_CLIENTS": "0"})


@pytest.mark.parametrize("setting", ["CRM_REQUIRE_CLIENTS", "CRM_REQUIRE_BROWSER"])
def test_a_missing_client_fails_a_run_that_requires_its_clients(setting):
    with pytest.raises(pytest.fail.Exception, match=rf"{setting}=1 forbids skipping"):
        find_client("CRM_TEST_SOFFICE", NOWHERE, MISSING_SOFFICE, {setting: "1"})
