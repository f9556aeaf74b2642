"""The dashboard: the state of the pipeline in one page."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from crm.database import utcnow
from crm.leads.content import content_figures
from crm.leads.dashboard import CHART_DAYS, CONVERSION_DAYS, dashboard_figures
from crm.mail.status import outbox_health
from crm.staff import bp
from crm.staff.charts import daily_bars


@bp.get("/")
def dashboard() -> ResponseReturnValue:
    now = utcnow()
    figures = dashboard_figures(current_user, now)
    return render_template(
        "staff/dashboard.html",
        figures=figures,
        mail=outbox_health(now, viewer=current_user),
        chart=daily_bars(figures.leads_per_day),
        chart_days=CHART_DAYS,
        conversion_days=CONVERSION_DAYS,
        content=content_figures(current_user, now),
    )
