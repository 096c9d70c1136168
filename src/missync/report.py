"""The plan as a person reads it: the wizard's summary rows, then the details that need attention."""

from __future__ import annotations

from collections.abc import Callable

from missync.core.plan import Plan

ROW_LABELS = {
    "new_pupils": "New pupils",
    "new_staff": "New staff",
    "updated": "Updated (name, year, email or groups)",
    "moved": "Moving class",
    "leavers": "Leavers (archived, logins kept)",
    "restored": "Returning (restored with the same login)",
    "new_classes": "New classes and groups",
    "removed_classes": "Classes no longer in the MIS (archived)",
    "possible_duplicates": "Possible duplicates",
    "errors": "Users who will not be imported due to errors",
    "unchanged": "Unchanged",
}
DETAIL_LIMIT = 10


def print_plan(plan: Plan, echo: Callable[[str], object], *, applied: bool = False) -> None:
    """Print the summary table, the hold, and the lines that need a decision or a fix."""
    echo("Sync applied:" if applied else "Sync preview (nothing has been written):")
    summary = plan.summary()
    for key, label in ROW_LABELS.items():
        echo(f"  {label:<46} {summary[key]:>6}")
    lines = plan.lines()
    for key in ("moved", "leavers", "restored", "updated"):
        if lines[key] and len(lines[key]) <= DETAIL_LIMIT:
            echo(f"{ROW_LABELS[key]}:")
            for line in lines[key]:
                echo(f"  {line['name']} ({line['username']}): {line['change']}")
    if plan.duplicates:
        echo("Possible duplicates (decide with --duplicates link|new|skip):")
        for line in lines["possible_duplicates"]:
            echo(f"  {line['name']} ~ existing account {line['account']}: {line['change']}")
    if plan.errors:
        echo("Users who will not be imported due to errors:")
        for error in plan.errors[: DETAIL_LIMIT * 5]:
            reasons = "; ".join(f"{p.message}. {p.fix}".strip() for p in error.problems)
            echo(f"  {error.name} ({error.role}): {reasons}")
        if len(plan.errors) > DETAIL_LIMIT * 5:
            echo(f"  ... and {len(plan.errors) - DETAIL_LIMIT * 5} more (see --json)")
    if plan.unmapped_year_groups:
        echo(
            "Unmapped year groups: "
            + ", ".join(plan.unmapped_year_groups)
            + ' (map them with `missync school settings SLUG --map-year "NAME=Year N"`)'
        )
    warnings = [p for p in plan.problems if p.severity == "warning"]
    if warnings:
        echo(f"{len(warnings)} warning(s) reading the export, e.g.: {warnings[0].describe()}")
    if plan.held and not applied:
        echo("HELD FOR REVIEW: " + " ".join(plan.hold_reasons))
        echo("Nothing will be written without --confirm-hold.")
