"""Lead exports: per-branch CSV and XLSX, streamed, neutralised against formulas, recorded.

What an export selects is said in the inbox's own vocabulary, ``crm.leads.filters.LeadFilters``.

Every export starts from ``visible_leads`` (the one branch scope): the staff page passes the
signed-in manager or administrator, the command line passes no one and acts for the clinic.
"""

from crm.leads.export.cells import neutralise, spreadsheet_phone
from crm.leads.export.filters import ExportRefused, assignee_by_email
from crm.leads.export.rows import HEADER
from crm.leads.export.run import LeadExport, start_export, visible_export_records

__all__ = [
    "HEADER",
    "ExportRefused",
    "LeadExport",
    "assignee_by_email",
    "neutralise",
    "spreadsheet_phone",
    "start_export",
    "visible_export_records",
]
