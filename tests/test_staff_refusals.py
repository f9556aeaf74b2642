"""A page a role does not reach is refused inside the staff layout; a new account starts with
the least privilege."""

from __future__ import annotations

import re

from tests.staff_helpers import enter_as, make_staff


def test_a_refused_staff_page_keeps_the_staff_menu(app):
    manager = enter_as(app.test_client(), app, make_staff(app, "manager", "bengaluru"))
    agent = enter_as(app.test_client(), app, make_staff(app, "agent", "bengaluru"))
    for client, url in ((manager, "/staff/users"), (agent, "/staff/exports")):
        response = client.get(url)
        html = response.get_data(as_text=True)
        assert response.status_code == 403, url
        assert 'class="staff-nav"' in html, url
        assert "Go to the home page" not in html, url


def test_adding_someone_defaults_to_the_least_privileged_role(app):
    admin = enter_as(app.test_client(), app, make_staff(app, "admin", None))
    html = admin.get("/staff/users").get_data(as_text=True)
    role = re.search(r'<select[^>]*name="role".*?</select>', html, re.DOTALL).group(0)
    assert re.findall(r'<option selected value="(\w+)"|<option value="(\w+)" selected', role) in (
        [("", "agent")],
        [("agent", "")],
    )
