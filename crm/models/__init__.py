"""All models, imported here so Alembic's autogenerate sees the whole schema."""

from crm.models.appointment import Appointment, AppointmentKind, AppointmentStatus, Clinician
from crm.models.branch import WEEKDAYS, Branch
from crm.models.enquiry import CHANNEL_LABELS, DESK_CHANNELS, Channel, Enquiry
from crm.models.event import EventKind, LeadEvent
from crm.models.export import ExportFormat, ExportRecord, ExportStatus
from crm.models.followup import FollowUp
from crm.models.lead import (
    OPEN_STATUSES,
    REFERENCE_FORMAT,
    STATUS_LABELS,
    Lead,
    LeadStatus,
    LostReason,
)
from crm.models.lead_count import NO_PAGE, LeadFunnelDay, LeadStatusCount
from crm.models.outbox import EmailKind, OutboxEmail, OutboxStatus
from crm.models.page_view import PageViewDay
from crm.models.session import StaffSession
from crm.models.sign_in import StaffSignInAddress
from crm.models.staff import Role, StaffUser

__all__ = [
    "CHANNEL_LABELS",
    "DESK_CHANNELS",
    "NO_PAGE",
    "OPEN_STATUSES",
    "REFERENCE_FORMAT",
    "STATUS_LABELS",
    "WEEKDAYS",
    "Appointment",
    "AppointmentKind",
    "AppointmentStatus",
    "Branch",
    "Channel",
    "Clinician",
    "EmailKind",
    "Enquiry",
    "EventKind",
    "ExportFormat",
    "ExportRecord",
    "ExportStatus",
    "FollowUp",
    "Lead",
    "LeadEvent",
    "LeadFunnelDay",
    "LeadStatus",
    "LeadStatusCount",
    "LostReason",
    "OutboxEmail",
    "OutboxStatus",
    "PageViewDay",
    "Role",
    "StaffSession",
    "StaffSignInAddress",
    "StaffUser",
]
