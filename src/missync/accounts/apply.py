"""Writing a reviewed plan, and undoing the last run: one transaction each, all or nothing.

Both lock the school's row first (SQLite: an IMMEDIATE transaction), so two applies for one school never
interleave, and both refuse when the store's revision is not the one they expect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import F

from missync.core.plan import Plan
from missync.core.snapshot import AccountValues, ClassRef

from .crypto import encrypt_credential
from .models import Account, Change, Membership, School, SchoolClass, SyncRun
from .store import (
    ACCOUNT_FIELDS,
    CLASS_FIELDS,
    Resolve,
    account_from_json,
    account_row_values,
    account_to_json,
    class_from_json,
    class_to_json,
    resolver,
)

BATCH = 1000
Progress = Callable[[str, int, int], None]
T = TypeVar("T")


class ApplyRefused(Exception):
    """Nothing was written; the message says why and what to do."""


class StoreChanged(ApplyRefused):
    pass


class PlanHeld(ApplyRefused):
    pass


class NothingToUndo(ApplyRefused):
    pass


def _batches(items: Iterable[T], size: int = BATCH) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _no_progress(label: str, done: int, total: int) -> None:
    pass


def _lock(school: School) -> School:
    return School.objects.select_for_update().get(pk=school.pk)


def apply_plan(
    school: School,
    plan: Plan,
    *,
    confirm_hold: bool = False,
    actor: str = "",
    source: str = "",
    progress: Progress | None = None,
) -> SyncRun:
    """Write exactly `plan` for `school` in one transaction, recording every change; return the run."""
    progress = progress or _no_progress
    if plan.held and not confirm_hold:
        raise PlanHeld("the plan is held for review: " + " ".join(plan.hold_reasons))
    with transaction.atomic():
        locked = _lock(school)
        if locked.revision != plan.snapshot_revision:
            raise StoreChanged(
                "the school's accounts changed since this preview was made (another sync or a manual "
                "edit); preview again and review the new plan"
            )
        run = SyncRun.objects.create(
            school=locked,
            actor=actor,
            source=source or plan.source,
            summary=plan.summary(),
            report=_report(plan),
            hold_confirmed=plan.held,
            revision_before=locked.revision,
            revision_after=locked.revision + 1,
            roster_size_before=locked.last_roster_size,
        )
        resolve, class_changes = _write_classes(locked, plan)
        account_changes = _write_accounts(locked, plan, resolve, progress)
        records = class_changes + account_changes
        for record in records:
            record.run = run
        Change.objects.bulk_create(records, batch_size=BATCH)
        locked.revision += 1
        if plan.complete:
            locked.last_roster_size = plan.roster_size
        locked.save(update_fields=["revision", "last_roster_size"])
        school.revision, school.last_roster_size = locked.revision, locked.last_roster_size
    return run


def _report(plan: Plan) -> dict[str, Any]:
    report = plan.as_json()
    report["lines"]["unchanged"] = []  # the count is in the summary; the list adds nothing to history
    return report


def _write_classes(school: School, plan: Plan) -> tuple[Resolve, list[Change]]:
    new = [change for change in plan.classes if change.kind == "new"]
    created = SchoolClass.objects.bulk_create(
        [SchoolClass(school=school, **class_to_json(change.after)) for change in new], batch_size=BATCH
    )
    created_ids: dict[ClassRef, int] = {change.ref: row.pk for change, row in zip(new, created, strict=True)}
    resolve = resolver(created_ids)
    changed = [change for change in plan.classes if change.kind != "new"]
    SchoolClass.objects.bulk_update(
        [SchoolClass(pk=resolve(c.ref), **class_to_json(c.after)) for c in changed],
        CLASS_FIELDS,
        batch_size=BATCH,
    )
    records = [
        Change(
            entity="class",
            object_id=resolve(change.ref),
            kind=change.kind,
            before=class_to_json(change.before) if change.before else None,
            after=class_to_json(change.after),
        )
        for change in plan.classes
    ]
    return resolve, records


def _write_accounts(school: School, plan: Plan, resolve: Resolve, progress: Progress) -> list[Change]:
    new = [change for change in plan.people if change.account_id is None]
    existing = [change for change in plan.people if change.account_id is not None]
    total = len(plan.people)
    done = 0
    created: list[Account] = []
    for batch in _batches(new):
        rows = [
            Account(
                school=school,
                credential=encrypt_credential(change.password) if change.password else "",
                **account_row_values(change.after, resolve),
            )
            for change in batch
        ]
        created.extend(Account.objects.bulk_create(rows))
        done += len(batch)
        progress("Creating accounts", done, total)
    for batch in _batches(existing):
        Account.objects.bulk_update(
            [Account(pk=c.account_id, **account_row_values(c.after, resolve)) for c in batch],
            [*ACCOUNT_FIELDS, "registration_class"],
        )
        done += len(batch)
        progress("Updating accounts", done, total)

    ids = [row.pk for row in created] + [change.account_id for change in existing]
    changes = new + existing
    _replace_memberships(
        school,
        [
            (account_id, change.after)
            for account_id, change in zip(ids, changes, strict=True)
            if change.before is None or change.before.groups != change.after.groups
        ],
        resolve,
    )
    return [
        Change(
            entity="account",
            object_id=account_id,
            kind=change.kind,
            before=account_to_json(change.before, resolve) if change.before else None,
            after=account_to_json(change.after, resolve),
        )
        for account_id, change in zip(ids, changes, strict=True)
    ]


def _replace_memberships(
    school: School, accounts: Sequence[tuple[int, AccountValues]], resolve: Resolve
) -> None:
    """Set the memberships of these accounts to exactly their values' groups (two bulk queries a batch)."""
    for batch in _batches(accounts):
        Membership.objects.filter(
            school=school, account_id__in=[account_id for account_id, _ in batch]
        ).delete()
        Membership.objects.bulk_create(
            [
                Membership(school=school, account_id=account_id, school_class_id=resolve(ref))
                for account_id, values in batch
                for ref in sorted(values.groups)
            ],
            batch_size=BATCH,
        )


def undo_last_run(school: School, *, actor: str = "") -> SyncRun:
    """Revert the school's last applied sync exactly; refuse if anything was written after it."""
    with transaction.atomic():
        locked = _lock(school)
        run = SyncRun.objects.filter(school=locked, kind="sync", status="applied").order_by("-id").first()
        if run is None:
            raise NothingToUndo("there is no applied sync to undo for this school")
        if run.revision_after != locked.revision:
            raise StoreChanged(
                "the school's accounts changed after the last sync (a manual edit or another action), "
                "so it can no longer be undone exactly"
            )
        changes = list(run.changes.all())
        account_changes = [c for c in changes if c.entity == "account"]
        class_changes = [c for c in changes if c.entity == "class"]
        same = resolver({})
        created_accounts = [c.object_id for c in account_changes if c.before is None]
        restored = [
            (c.object_id, account_from_json(c.before)) for c in account_changes if c.before is not None
        ]
        for batch in _batches(created_accounts):
            Account.objects.filter(school=locked, pk__in=batch).delete()
        for batch in _batches(restored):
            Account.objects.bulk_update(
                [Account(pk=pk, **account_row_values(values, same)) for pk, values in batch],
                [*ACCOUNT_FIELDS, "registration_class"],
            )
        _replace_memberships(locked, restored, same)
        for change in class_changes:
            if change.before is not None:
                values = class_to_json(class_from_json(change.before))
                SchoolClass.objects.filter(school=locked, pk=change.object_id).update(**values)
        created_classes = [c.object_id for c in class_changes if c.before is None]
        SchoolClass.objects.filter(school=locked, pk__in=created_classes).delete()
        run.status = "undone"
        run.save(update_fields=["status"])
        undo = SyncRun.objects.create(
            school=locked,
            kind="undo",
            actor=actor,
            source=f"undo of sync #{run.pk}",
            summary=run.summary,
            revision_before=locked.revision,
            revision_after=locked.revision + 1,
            roster_size_before=locked.last_roster_size,
            undoes=run,
        )
        locked.revision += 1
        locked.last_roster_size = run.roster_size_before
        locked.save(update_fields=["revision", "last_roster_size"])
        # The school is back to the state the previous sync left, so that sync can be undone in turn.
        SyncRun.objects.filter(
            school=locked, kind="sync", status="applied", revision_after=run.revision_before
        ).update(revision_after=locked.revision)
        school.revision, school.last_roster_size = locked.revision, locked.last_roster_size
    return undo


def record_manual_change(school: School) -> None:
    """Bump the school's revision after a manual edit, so an older preview cannot be applied over it."""
    School.objects.filter(pk=school.pk).update(revision=F("revision") + 1)
    school.refresh_from_db(fields=["revision"])
