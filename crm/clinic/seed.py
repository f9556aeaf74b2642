"""Seed data: the clinic's branches (always) and a living demo CRM (on request)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from crm.models import Branch
from crm.platform.database import write_transaction

BRANCHES_FILE = Path(__file__).resolve().parent.parent / "content" / "branches.json"
# Facts added after the first release: filled in where a branch has none, never overwritten.
LATER_FACTS = ("latitude", "longitude", "landmarks", "parking")


def branch_records() -> list[dict[str, Any]]:
    return json.loads(BRANCHES_FILE.read_text(encoding="utf-8"))


def seed_branches() -> list[str]:
    """Insert the branches that are missing; never overwrite one the clinic has edited."""
    added = []
    with write_transaction() as session:
        existing = {branch.slug: branch for branch in session.scalars(select(Branch))}
        for record in branch_records():
            if record["slug"] in existing:
                _fill_blanks(existing[record["slug"]], record)
                continue
            session.add(Branch(**record))
            added.append(record["slug"])
    return added


def _fill_blanks(branch: Branch, record: dict[str, Any]) -> None:
    for name in LATER_FACTS:
        if getattr(branch, name) is None and record.get(name) is not None:
            setattr(branch, name, record[name])
