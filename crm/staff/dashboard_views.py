"""The dashboard: the state of the pipeline in one page."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from crm.leads.appointment_figures import NO_SHOW_DAYS
from crm.leads.content import content_figures
from crm.leads.dashboard import CHART_DAYS, CONVERSION_DAYS, dashboard_figures
from crm.leads.email_status import outbox_health_for
from crm.leads.my_day import my_day
from crm.platform.database import utcnow
from crm.staff import bp
from crm.staff.charts import daily_bars


@bp.get("/")
def dashboard() -> ResponseReturnValue:
    now = utcnow()
    figures = dashboard_figures(current_user, now)
    return render_template(
        "staff/dashboard.html",
        figures=figures,
        mail=outbox_health_for(current_user, now),
        chart=daily_bars(figures.leads_per_day),
        chart_days=CHART_DAYS,
        conversion_days=CONVERSION_DAYS,
        content=content_figures(current_user, now),
        no_show_days=NO_SHOW_DAYS,
        day=my_day(current_user, now),
        now=now,
    )
