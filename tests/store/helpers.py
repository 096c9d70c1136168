"""Helpers for store tests: a school's whole state as plain data, to compare before and after."""

from __future__ import annotations

from typing import Any

from missync.accounts.models import Account, Membership, School, SchoolClass


def school_state(school: School) -> dict[str, Any]:
    """Every account (credential included), class and membership of the school, keyed by database id."""
    accounts = {row["id"]: row for row in Account.objects.filter(school=school).values().order_by("id")}
    for row in accounts.values():
        row.pop("created_at", None)
    classes = {row["id"]: row for row in SchoolClass.objects.filter(school=school).values().order_by("id")}
    memberships = sorted(
        Membership.objects.filter(school=school).values_list("account_id", "school_class_id")
    )
    return {"accounts": accounts, "classes": classes, "memberships": memberships}
