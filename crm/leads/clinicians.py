"""Each branch's list of clinicians: names patients are booked with, kept by its managers."""

from __future__ import annotations

from sqlalchemy import func, select

from crm.leads.operations import WorkflowError
from crm.models import Branch, Clinician, StaffUser
from crm.platform.contact import clean_text, unsafe_characters
from crm.platform.database import write_transaction
from crm.platform.extensions import db
from crm.policy import can_edit_clinicians

NAME_MAX = 120


class ClinicianRefused(WorkflowError):
    """This person may not change this branch's clinicians."""


def clinicians_of(branch_id: int, *, active_only: bool = False) -> list[Clinician]:
    query = select(Clinician).where(Clinician.branch_id == branch_id)
    if active_only:
        query = query.where(Clinician.active.is_(True))
    return list(db.session.scalars(query.order_by(Clinician.active.desc(), Clinician.name)))


def _clean_name(name: str | None) -> str:
    name = clean_text(name)
    if not name:
        raise WorkflowError("Please give the clinician's name.")
    if unsafe_characters(name):
        raise WorkflowError("Please remove invisible or control characters from the name.")
    if len(name) > NAME_MAX:
        raise WorkflowError(f"Please keep the name under {NAME_MAX} characters.")
    return name


def _refuse_duplicate(session, branch_id: int, name: str, except_id: int | None) -> None:  # type: ignore[no-untyped-def]
    query = select(Clinician.id).where(
        Clinician.branch_id == branch_id, func.lower(Clinician.name) == name.lower()
    )
    if except_id is not None:
        query = query.where(Clinician.id != except_id)
    if session.scalar(query) is not None:
        raise WorkflowError(f"{name} is already on this branch's list.")


def add_clinician(actor: StaffUser, branch_id: int, name: str | None) -> Clinician:
    if not can_edit_clinicians(actor, branch_id):
        raise ClinicianRefused("Only the branch's managers and admins can change its clinicians.")
    name = _clean_name(name)
    with write_transaction() as session:
        if session.get(Branch, branch_id) is None:
            raise WorkflowError("No such branch.")
        _refuse_duplicate(session, branch_id, name, None)
        clinician = Clinician(branch_id=branch_id, name=name, active=True)
        session.add(clinician)
    return clinician


def update_clinician(
    actor: StaffUser, clinician_id: int, name: str | None, active: bool
) -> Clinician:
    """Rename, retire or bring back a clinician; their past appointments keep pointing at them."""
    name = _clean_name(name)
    with write_transaction() as session:
        clinician = session.get(Clinician, clinician_id, with_for_update=True)
        if clinician is None or not can_edit_clinicians(actor, clinician.branch_id):
            # Another branch's clinician does not exist for this person.
            raise LookupError(clinician_id)
        _refuse_duplicate(session, clinician.branch_id, name, clinician.id)
        clinician.name = name
        clinician.active = active
    return clinician
