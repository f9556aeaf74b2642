"""Lead exports: per-branch CSV and XLSX, streamed, neutralised against formulas, recorded.

Every export starts from ``visible_leads`` (the one branch scope): the staff page passes the
signed-in manager or administrator, the command line passes no one and acts for the clinic.
"""

from crm.leads.export.cells import neutralise, spreadsheet_phone
from crm.leads.export.filters import (
    ALL_BRANCHES,
    OPEN,
    UNASSIGNED,
    ExportFilters,
    ExportRefused,
)
from crm.leads.export.rows import HEADER
from crm.leads.export.run import LeadExport, start_export, visible_export_records

__all__ = [
    "ALL_BRANCHES",
    "HEADER",
    "OPEN",
    "UNASSIGNED",
    "ExportFilters",
    "ExportRefused",
    "LeadExport",
    "neutralise",
    "spreadsheet_phone",
    "start_export",
    "visible_export_records",
]
