"""Who may export what: a branch's managers their branch, administrators any; agents nothing."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from crm.leads.export import ExportRefused, start_export
from crm.leads.filters import LeadFilters
from crm.models import Branch, StaffUser
from crm.platform.database import utcnow
from crm.platform.extensions import db
from tests.export_helpers import (
    capture,
    csv_records,
    download,
    export_records,
    forged_download,
    xlsx_records,
)
from tests.staff_helpers import csrf_token, email_of, enter_as, staff_cast


@pytest.fixture
def world(app):
    people = staff_cast(app)
    leads = {
        "hyd": {
            capture(app, "hyderabad", name="Hyderabad One", phone="+919845022221"),
            capture(app, "hyderabad", name="Hyderabad Two", phone="+919845022222"),
        },
        "blr": {
            capture(app, "bengaluru", name="Bengaluru One", phone="+919845011111"),
            capture(app, "bengaluru", name="Bengaluru Two", phone="+919845011112"),
        },
    }
    with app.app_context():
        blr_id = db.session.scalar(select(Branch.id).where(Branch.slug == "bengaluru"))
    return {"people": people, "leads": leads, "bengaluru_id": blr_id}


def references(ids: set[int]) -> set[str]:
    return {f"L-{lead_id:06d}" for lead_id in ids}


def as_person(app, world, who: str):
    return enter_as(app.test_client(), app, world["people"][who])


def test_a_hyderabad_manager_exports_hyderabad_leads(app, world):
    response = download(as_person(app, world, "hyd_manager"))
    assert response.status_code == 200
    rows = csv_records(response.data)
    assert {row["Reference"] for row in rows} == references(world["leads"]["hyd"])
    assert {row["Branch"] for row in rows} == {"Hyderabad"}


@pytest.mark.parametrize(
    ("pairs", "status"),
    [
        pytest.param([("branch", "bengaluru")], 422, id="other-branch"),
        pytest.param([("branch", "all")], 422, id="all-branches"),
        pytest.param(
            [("branch", "bengaluru"), ("branch", "hyderabad")], 422, id="repeated-other-first"
        ),
        pytest.param(
            [("branch", "hyderabad"), ("branch", "bengaluru")], 200, id="repeated-own-first"
        ),
        pytest.param([("branch_id", "{blr}")], 200, id="branch-id"),
        pytest.param(
            [("branch", ""), ("branch_id", "{blr}"), ("branch_slug", "bengaluru")],
            200,
            id="empty-branch-and-extras",
        ),
        pytest.param([("branch", "BENGALURU")], 422, id="other-branch-upper-case"),
        pytest.param([("assignee", "{blr_agent}")], 422, id="other-branch-assignee"),
        pytest.param([("branch", "bengaluru"), ("format", "xlsx")], 422, id="other-branch-xlsx"),
        pytest.param([("format", "xlsx"), ("branch_id", "{blr}")], 200, id="xlsx-branch-id"),
    ],
)
def test_a_forged_request_never_exports_another_branch(app, world, pairs, status):
    client = as_person(app, world, "hyd_manager")
    values = {
        "blr": str(world["bengaluru_id"]),
        "blr_agent": email_of(app, world["people"]["blr_agent"]),
    }
    filled = [(name, value.format(**values)) for name, value in pairs]
    if not any(name == "format" for name, _ in filled):
        filled.append(("format", "csv"))
    response = forged_download(client, filled)
    assert response.status_code == status
    if status == 422:
        assert response.mimetype == "text/html"
        assert b"Bengaluru One" not in response.data
        assert export_records(app) == []
        return
    rows = (
        xlsx_records(response.data) if ("format", "xlsx") in filled else csv_records(response.data)
    )
    assert {row["Reference"] for row in rows} == references(world["leads"]["hyd"])
    assert [record.branch_id for record in export_records(app)] == [db_branch_id(app, "hyderabad")]


def db_branch_id(app, slug: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Branch.id).where(Branch.slug == slug))


def test_query_string_branch_on_the_download_is_ignored(app, world):
    client = as_person(app, world, "hyd_manager")
    token = csrf_token(client, "/staff/exports")
    response = client.post(
        "/staff/exports?branch=bengaluru&branch_id=2",
        data={"csrf_token": token, "format": "csv"},
    )
    assert response.status_code == 200
    assert {row["Reference"] for row in csv_records(response.data)} == references(
        world["leads"]["hyd"]
    )


def test_the_export_operation_refuses_a_manager_another_branch(app, world):
    """Below the form: the operation itself will not widen a manager's scope."""
    with app.app_context():
        manager = db.session.get(StaffUser, world["people"]["hyd_manager"])
        with pytest.raises(ExportRefused):
            start_export(manager, LeadFilters(branch="bengaluru"), "csv")
        agent = db.session.get(StaffUser, world["people"]["hyd_agent"])
        with pytest.raises(ExportRefused):
            start_export(agent, LeadFilters(branch="hyderabad"), "csv")
    assert export_records(app) == []


def test_a_bengaluru_manager_exports_only_bengaluru(app, world):
    rows = csv_records(download(as_person(app, world, "blr_manager")).data)
    assert {row["Reference"] for row in rows} == references(world["leads"]["blr"])


@pytest.mark.parametrize("who", ["hyd_agent", "blr_agent"])
def test_agents_cannot_open_the_exports_page_or_download(app, world, who):
    client = as_person(app, world, who)
    assert client.get("/staff/exports").status_code == 403
    token = csrf_token(client)
    for branch in ("hyderabad", "bengaluru", "all", ""):
        response = client.post(
            "/staff/exports", data={"csrf_token": token, "branch": branch, "format": "csv"}
        )
        assert response.status_code == 403
        assert b"One" not in response.data
    assert export_records(app) == []
    assert b'href="/staff/exports"' not in client.get("/staff/").data


def test_managers_and_admins_see_the_exports_link(app, world):
    for who in ("hyd_manager", "admin"):
        page = as_person(app, world, who).get("/staff/")
        assert b'href="/staff/exports"' in page.data


def test_signed_out_visitors_are_sent_to_sign_in(app, world):
    client = app.test_client()
    page = client.get("/staff/exports")
    assert page.status_code == 302 and "/staff/login" in page.headers["Location"]
    # Without a session there is no CSRF token to send: the request stops there.
    response = client.post("/staff/exports", data={"branch": "all", "format": "csv"})
    assert response.status_code == 400
    assert b"One" not in response.data
    assert export_records(app) == []


def test_a_download_without_the_csrf_token_is_refused(app, world):
    client = as_person(app, world, "admin")
    response = client.post("/staff/exports", data={"branch": "all", "format": "csv"})
    assert response.status_code == 400
    assert export_records(app) == []


def test_an_admin_exports_all_branches_or_one(app, world):
    client = as_person(app, world, "admin")
    everything = csv_records(download(client, branch="all").data)
    assert {row["Reference"] for row in everything} == references(
        world["leads"]["hyd"] | world["leads"]["blr"]
    )
    one = csv_records(download(client, branch="bengaluru").data)
    assert {row["Reference"] for row in one} == references(world["leads"]["blr"])
    refused = download(client, branch="mysuru")
    assert refused.status_code == 422


def test_exports_are_never_cached_and_arrive_as_attachments(app, world):
    client = as_person(app, world, "hyd_manager")
    page = client.get("/staff/exports")
    assert page.headers["Cache-Control"] == "no-store"
    response = download(client, since="2020-11-01", until="2020-11-23")
    assert csv_records(response.data) == []  # read to the end, as a browser does
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=leads-hyderabad-2020-11-01-to-2020-11-23.csv"
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    xlsx = download(client, format="xlsx", since="2020-11-01")
    assert len(xlsx_records(xlsx.data)) == 2
    assert xlsx.headers["Cache-Control"] == "no-store"
    assert xlsx.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    today = utcnow().astimezone(ZoneInfo("Asia/Kolkata")).date().isoformat()
    assert xlsx.headers["Content-Disposition"] == (
        f"attachment; filename=leads-hyderabad-2020-11-01-to-{today}.xlsx"
    )
    everything = download(as_person(app, world, "admin"), branch="all")
    assert len(csv_records(everything.data)) == 4
    assert everything.headers["Content-Disposition"] == (
        f"attachment; filename=leads-all-branches-up-to-{today}.csv"
    )
