"""The reach-out form as every page renders it: fresh token, page and campaign prefilled."""

from __future__ import annotations

from flask import g, request

from crm.branches import branch_choices
from crm.intake.forms import UTM_MAX, ReachOutForm, new_submission_token
from crm.intake.landing import landing_utm
from crm.intake.spam import sign_shown_at
from crm.leads.capture import UTM_FIELDS


def reach_out_form() -> ReachOutForm:
    """The form for this page: the one being re-shown with errors, or a fresh one."""
    form = g.get("reach_out_form")
    if form is None:
        utm = landing_utm()
        for name in UTM_FIELDS:
            if request.args.get(name):
                utm[name] = request.args[name][:UTM_MAX]
        form = ReachOutForm(
            formdata=None,
            branches=branch_choices(),
            data={
                "submission_token": new_submission_token(),
                "source_page": request.path,
                "shown_at": sign_shown_at(),
                "branch": g.get("preferred_branch") or "",
                # The page's own topic (an article's front matter), where it has one.
                "interest": g.get("preferred_interest") or "",
                **utm,
            },
        )
        g.reach_out_form = form
    return form
