"""The reach-out form as every page renders it: fresh token, page and campaign prefilled.

A refused form is shown again on the page it was sent from. Which page that is, and how it is
drawn, is the website's business: the site offers a renderer (``offer_form_pages``) and the
intake asks for it by path, so neither blueprint calls the other's view functions.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, g, request

from crm.clinic.branches import branch_choices
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


PAGE_RENDERER = "crm.reach_out_pages"


def offer_form_pages(app: Flask, render: Callable[[str | None], str]) -> None:
    """Let the intake draw a page that carries the form, given the page's path."""
    app.extensions[PAGE_RENDERER] = render


def form_page_again(form: ReachOutForm) -> str:
    """The page ``form`` was sent from, drawn again with the visitor's input and the reasons."""
    g.reach_out_form = form
    render: Callable[[str | None], str] = current_app.extensions[PAGE_RENDERER]
    return render(form.source_page.data)
