"""Every role rule lives in crm/policy.py: no other module and no template compares roles, and
what a page offers each role is exactly what the server then allows."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from jinja2 import Environment

from crm.models import Role
from tests.staff_helpers import csrf_token, enter_as, lead_state, make_lead, make_staff

ROOT = Path(__file__).resolve().parent.parent
ROLE_NAMES = {role.value for role in Role}
# The policy answers; the model declares the roles; the account form lists them as choices.
MAY_NAME_ROLES = {"crm/policy.py", "crm/models/staff.py", "crm/staff/forms.py"}


def _mentions_a_role(node: ast.AST) -> bool:
    for part in ast.walk(node):
        if isinstance(part, ast.Attribute) and part.attr == "role":
            return True
        if isinstance(part, ast.Attribute) and getattr(part.value, "id", None) == "Role":
            return True
        if isinstance(part, ast.Constant) and part.value in ROLE_NAMES:
            return True
    return False


def role_comparisons(path: Path, root: Path = ROOT) -> list[str]:
    """Each comparison in a Python file that involves a role, as ``file:line``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(
            _mentions_a_role(operand) for operand in [node.left, *node.comparators]
        ):
            found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def template_role_rules(path: Path, root: Path = ROOT) -> list[str]:
    """Role names and role comparisons in a template's code (its text is not looked at)."""
    tokens = [
        (line, kind, value)
        for line, kind, value in Environment(autoescape=True).lex(path.read_text(encoding="utf-8"))
        if kind != "whitespace"
    ]
    found = []
    for index, (line, kind, value) in enumerate(tokens):
        where = f"{path.relative_to(root)}:{line}"
        if kind == "string" and value.strip("\"'") in ROLE_NAMES:
            found.append(f"{where} {value}")
        after = tokens[index + 1][2] if index + 1 < len(tokens) else ""
        before = tokens[index - 1][2] if index else ""
        if (
            kind == "name"
            and value == "role"
            and before == "."
            and after in ("==", "!=", "in", "not")
        ):
            found.append(f"{where} .role {after}")
    return found


def test_no_module_but_the_policy_compares_roles():
    offences = [
        offence
        for path in sorted((ROOT / "crm").rglob("*.py"))
        if str(path.relative_to(ROOT)) not in MAY_NAME_ROLES
        for offence in role_comparisons(path)
    ]
    assert offences == [], "ask crm.policy instead: " + ", ".join(offences)


def test_no_template_names_a_role():
    offences = [
        offence
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for offence in template_role_rules(path)
    ]
    assert offences == [], "ask policy.<rule>(current_user) instead: " + ", ".join(offences)


def test_the_scans_see_role_rules(tmp_path):
    """The two scans above would notice the forms a role rule takes."""
    code = tmp_path / "crm" / "rule.py"
    code.parent.mkdir()
    code.write_text(
        "def f(user, role):\n"
        "    a = user.role == Role.ADMIN\n"
        "    b = user.role in (Role.ADMIN, Role.MANAGER)\n"
        "    c = role != 'agent'\n"
        "    d = Role.MANAGER == role\n"
        "    return a or b or c or d or user.active == True\n"
    )
    page = tmp_path / "templates" / "page.html"
    page.parent.mkdir()
    page.write_text(
        "{% if current_user.role == 'admin' %}a{% endif %}"
        "{% if current_user.role in (x, y) %}b{% endif %}"
        '{% set who = "manager" %}'
        "{% for item, role in pairs %}{{ role }} an admin, a manager{% endfor %}"
    )
    lines = [found.split(":")[1] for found in role_comparisons(code, tmp_path)]
    assert lines == ["2", "3", "4", "5"]
    found = [offence.split(" ", 1)[1] for offence in template_role_rules(page, tmp_path)]
    assert found == [".role ==", "'admin'", ".role in", '"manager"']  # not the loop's own role


@pytest.fixture
def cast(app):
    people = {
        "agent": make_staff(app, "agent", "bengaluru", name="Anil Agent"),
        "manager": make_staff(app, "manager", "bengaluru", name="Bina Manager"),
        "admin": make_staff(app, "admin", None, name="Ada Admin"),
    }
    clients = {role: enter_as(app.test_client(), app, person) for role, person in people.items()}
    return people, clients


def _options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', html, flags=re.DOTALL)
    assert select is not None, name
    return re.findall(r'<option[^>]*value="([^"]*)"', select.group(0))


@pytest.mark.parametrize("role", ["agent", "manager", "admin"])
def test_each_role_is_offered_what_it_may_do_and_nothing_else(app, cast, role):
    people, clients = cast
    client = clients[role]
    lead = make_lead(app, "bengaluru")

    home = client.get("/staff/").get_data(as_text=True)
    for href, allowed in [("/staff/exports", role != "agent"), ("/staff/users", role == "admin")]:
        assert (f'href="{href}"' in home) is allowed, href
        assert (client.get(href).status_code == 200) is allowed, href

    page = client.get(f"/staff/leads/{lead}").get_data(as_text=True)
    for action, allowed in [
        ("merge", role != "agent"),
        ("access", role == "admin"),
        ("erase", role == "admin"),
    ]:
        assert (f'action="/staff/leads/{lead}/{action}"' in page) is allowed, action
    refused = client.post(
        f"/staff/leads/{lead}/access", data={"csrf_token": csrf_token(client), "format": "html"}
    )
    assert (refused.status_code == 200) is (role == "admin")

    inbox = client.get("/staff/leads").get_data(as_text=True)
    offered = _options(inbox, "action")
    assert offered == (["status"] if role == "agent" else ["status", "assign"])
    taken = client.post(
        "/staff/leads/bulk",
        data={
            "csrf_token": csrf_token(client),
            "lead_ids": [str(lead)],
            "action": "assign",
            "assignee": str(people["agent"]),
        },
    )
    assert taken.status_code == 303
    assert (lead_state(app, lead)["assignee_id"] == people["agent"]) is ("assign" in offered)


def test_follow_ups_go_to_whom_the_policy_allows(app, cast):
    """An agent reminds themselves or the lead's holder; a manager anyone of the branch."""
    people, clients = cast
    colleague = make_staff(app, "agent", "bengaluru", name="Chitra Agent")
    lead = make_lead(app, "bengaluru")
    for role, offered in [("agent", False), ("manager", True)]:
        client = clients[role]
        page = client.get(f"/staff/leads/{lead}").get_data(as_text=True)
        form = re.search(
            rf'<form[^>]*action="/staff/leads/{lead}/follow-ups".*?</form>', page, flags=re.DOTALL
        )
        assert (f'value="{colleague}"' in form.group(0)) is offered, role
        assert f'value="{people[role]}"' in form.group(0)
        response = client.post(
            f"/staff/leads/{lead}/follow-ups",
            data={
                "csrf_token": csrf_token(client),
                "due_at": "2099-01-01T10:00",
                "assignee": str(colleague),
            },
        )
        assert (response.status_code == 303) is offered, role
