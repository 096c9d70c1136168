"""Building the plan: `build_plan(roster, snapshot, choices)`, a pure function.

It reads nothing and writes nothing: no database, network or clock; randomness (new pupils' passwords)
comes only through the injected `rng`.
"""

from __future__ import annotations

import secrets
from dataclasses import replace

from .matching import DuplicateFinder, IdentityIndex
from .passwords import RandomSource, default_password_format, generate_password
from .plan import ClassChange, ClassKind, PersonChange, PersonError, PersonKind, Plan, PossibleDuplicate
from .roster import Group, Person, Problem, Roster
from .snapshot import AccountValues, Choices, ClassRef, ClassValues, Snapshot, new_ref
from .usernames import UsernameAllocator
from .years import map_year


def build_plan(roster: Roster, snapshot: Snapshot, choices: Choices, rng: RandomSource | None = None) -> Plan:
    """Compare what the MIS says with what the platform has, and say exactly what a sync would do."""
    return _Planner(roster, snapshot, choices, rng or secrets.SystemRandom()).build()


class _Planner:
    def __init__(self, roster: Roster, snapshot: Snapshot, choices: Choices, rng: RandomSource) -> None:
        self.roster = roster
        self.snapshot = snapshot
        self.choices = choices
        self.rng = rng
        self.plan = Plan(
            source=roster.source,
            complete=roster.complete,
            roster_size=len(roster.people),
            snapshot_revision=snapshot.revision,
            problems=list(roster.problems),
        )
        self.group_refs: dict[str, ClassRef] = {}  # roster group key -> class ref
        self.managed_refs: set[ClassRef] = set()  # classes whose memberships this sync decides
        self.claimed: dict[int, str] = {}  # account id -> person key that matched it
        self.unmapped: set[str] = set()

    # -- classes -------------------------------------------------------------------------------
    def _in_scope(self, group: Group) -> bool:
        selected = self.choices.subject_groups
        return group.kind == "registration" or selected is None or group.name in selected

    def _plan_classes(self) -> None:
        by_mis_id: dict[str, ClassRef] = {}
        by_name: dict[str, ClassRef] = {}
        for ref, klass in sorted(self.snapshot.classes.items(), key=lambda i: i[1].status != "active"):
            if klass.mis_id and klass.linked:
                by_mis_id.setdefault(klass.mis_id, ref)
            by_name.setdefault(klass.name, ref)
        used: set[ClassRef] = set()
        for group in self.roster.groups.values():
            if not self._in_scope(group):
                continue
            found = by_mis_id.get(group.mis_id) if group.mis_id else None
            if found is None or found in used:
                found = by_name.get(group.name)
            if found is None or found in used:
                ref = new_ref(group.key)
                after = ClassValues(group.name, group.kind, group.mis_id, self.roster.source)
                self.plan.classes.append(ClassChange("new", ref, None, after))
            else:
                ref = found
                self._update_class(ref, group)
            used.add(ref)
            self.group_refs[group.key] = ref
            self.plan.class_names[ref] = group.name
        self.managed_refs = set(used)
        # Classes are read from pupils: an export without pupils (staff only) says nothing about them.
        removes_classes = self.roster.complete and any(p.role == "pupil" for p in self.roster.people)
        for ref, klass in self.snapshot.classes.items():
            self.plan.class_names.setdefault(ref, klass.name)
            if ref in used or not klass.linked:
                continue
            in_scope = (
                klass.kind == "registration"
                or self.choices.subject_groups is None
                or (klass.name in self.choices.subject_groups)
            )
            if not in_scope:
                continue
            self.managed_refs.add(ref)
            if klass.status == "active" and removes_classes:
                archived = replace(klass, status="archived")
                self.plan.classes.append(ClassChange("removed", ref, klass, archived))

    def _update_class(self, ref: ClassRef, group: Group) -> None:
        before = self.snapshot.classes[ref]
        after = ClassValues(
            group.name, group.kind, group.mis_id or before.mis_id, self.roster.source, "active"
        )
        if after == before:
            return
        if before.status == "archived":
            kind: ClassKind = "restored"
        elif before.name != after.name:
            kind = "renamed"
        else:
            kind = "relinked"  # same name, new MIS id (a new academic year), or adopted hand-made class
        self.plan.classes.append(ClassChange(kind, ref, before, after))

    # -- people --------------------------------------------------------------------------------
    def build(self) -> Plan:
        self._plan_classes()
        accounts = self.snapshot.accounts
        identity = IdentityIndex(accounts)
        duplicates = DuplicateFinder(accounts)
        usernames = UsernameAllocator(account.username for account in accounts.values())
        seen_keys: set[str] = set()
        new_people: list[tuple[Person, str | None]] = []
        for person in self.roster.people:
            year_group = map_year(person.year, self.choices.year_map) if person.role == "pupil" else None
            problems = self._problems(person, year_group, seen_keys)
            seen_keys.add(person.key)
            account_id = identity.find(person, self.roster.source)
            if account_id is not None and account_id in self.claimed:
                problems.append(
                    Problem(
                        f"matches the same account ({accounts[account_id].username}) as another MIS record",
                        "Check the MIS for a duplicate record of this person (same UPN or MIS id twice).",
                        person=person.key,
                    )
                )
                account_id = None
            if account_id is not None:
                self.claimed[account_id] = person.key  # protected from archiving, even when in error
            # A delta may leave a known pupil's class out (unchanged); anyone else needs one.
            no_class = person.role == "pupil" and not person.registration_group and not problems
            if no_class and (self.roster.complete or account_id is None):
                problems.append(
                    Problem(
                        "has no registration group",
                        "Give the pupil a registration group (class) in the MIS, then sync again.",
                        person=person.key,
                    )
                )
            if problems:
                self.plan.errors.append(
                    PersonError(person.key, person.display_name or person.key, person.role, tuple(problems))
                )
                continue
            if account_id is not None:
                self._plan_existing(person, year_group, account_id)
            else:
                new_people.append((person, year_group))
        for person, year_group in new_people:
            self._plan_new(person, year_group, duplicates, usernames)
        self._plan_leavers(identity)
        self.plan.unmapped_year_groups = sorted(self.unmapped)
        self._check_hold()
        return self.plan

    def _problems(self, person: Person, year_group: str | None, seen_keys: set[str]) -> list[Problem]:
        problems = [p for p in person.problems if p.severity == "error"]
        if person.key in seen_keys and not problems:
            problems.append(
                Problem(
                    f"the MIS id {person.key} appears twice in this export",
                    "Each person must appear once; remove or merge the duplicate record in the MIS.",
                    person=person.key,
                )
            )
        if person.role == "pupil":
            if not person.year:
                problems.append(
                    Problem(
                        "has no year group",
                        "Give the pupil a year group in the MIS, then sync again.",
                        person=person.key,
                    )
                )
            elif year_group is None:
                self.unmapped.add(person.year)
                problems.append(
                    Problem(
                        f"year group '{person.year}' is not mapped to a platform year group",
                        f"Map '{person.year}' to a year group (the wizard's year groups step, or "
                        f'`missync school settings SLUG --map-year "{person.year}=Year 5"`).',
                        person=person.key,
                    )
                )
            if person.registration_group and person.registration_group not in self.roster.groups:
                problems.append(
                    Problem(
                        f"registration group {person.registration_group} is not in the export",
                        "Check the class exists in the MIS for this academic year.",
                        person=person.key,
                    )
                )
        return problems

    def _values(
        self, person: Person, year_group: str | None, base: AccountValues | None, username: str = ""
    ) -> AccountValues:
        """The account as the MIS says it should be; memberships outside the sync's classes are kept."""
        groups = {self.group_refs[key] for key in person.groups if key in self.group_refs}
        delta = not self.roster.complete
        if base is not None:
            # A delta only adds memberships; a full roster decides those of the classes it syncs.
            groups |= {ref for ref in base.groups if delta or ref not in self.managed_refs}
        registration = self.group_refs.get(person.registration_group or "")
        if person.role == "staff" or (delta and registration is None):
            registration = base.registration_class if base is not None else None
        elif registration is not None:
            groups.discard(registration)
        return AccountValues(
            role=person.role,
            username=base.username if base is not None else username,
            forename=person.forename,
            surname=person.surname,
            legal_forename=person.legal_forename,
            legal_surname=person.legal_surname,
            status="active",
            year_group=year_group if person.role == "pupil" else (base.year_group if base else None),
            registration_class=registration,
            groups=frozenset(groups),
            email=person.email or (base.email if base else None),
            dob=person.dob or (base.dob if base else None),
            upn=person.upn or (base.upn if base else None),
            former_upn=person.former_upn or (base.former_upn if base else None),
            upi=person.upi or (base.upi if base else None),
            mis_id=person.mis_id or (base.mis_id if base else None),
            source=self.roster.source,
            source_id=person.key,
        )

    def _plan_existing(self, person: Person, year_group: str | None, account_id: int) -> None:
        before = self.snapshot.accounts[account_id]
        after = self._values(person, year_group, before)
        if after == before:
            self.plan.unchanged.append((account_id, before.username, before.display_name))
            return
        changes = self._describe(before, after)
        if before.status == "archived":
            kind: PersonKind = "restored"
            changes = ("back on roll: restored with the same login", *changes)
        elif before.registration_class != after.registration_class and person.role == "pupil":
            kind = "moved"
        else:
            kind = "updated"
        self.plan.people.append(PersonChange(kind, account_id, person.key, before, after, changes))

    def _describe(self, before: AccountValues, after: AccountValues) -> tuple[str, ...]:
        names = self.plan.class_names
        changes: list[str] = []
        for label, old, new in (
            ("forename", before.forename, after.forename),
            ("surname", before.surname, after.surname),
            ("year", before.year_group, after.year_group),
            ("email", before.email, after.email),
        ):
            if old != new:
                changes.append(f"{label} {old or '(none)'} → {new or '(none)'}")
        if before.registration_class != after.registration_class:
            old_class = names.get(before.registration_class or "", "(none)")
            changes.append(f"class {old_class} → {names.get(after.registration_class or '', '(none)')}")
        if before.groups != after.groups:
            added = sorted(names.get(ref, ref) for ref in after.groups - before.groups)
            removed = sorted(names.get(ref, ref) for ref in before.groups - after.groups)
            if added:
                changes.append("joins " + ", ".join(added))
            if removed:
                changes.append("leaves " + ", ".join(removed))
        identity = [
            label
            for label, old, new in (
                ("UPN", before.upn, after.upn),
                ("former UPN", before.former_upn, after.former_upn),
                ("UPI", before.upi, after.upi),
                ("MIS id", before.mis_id, after.mis_id),
                ("date of birth", before.dob, after.dob),
                (
                    "legal name",
                    (before.legal_forename, before.legal_surname),
                    (after.legal_forename, after.legal_surname),
                ),
                ("MIS link", (before.source, before.source_id), (after.source, after.source_id)),
            )
            if old != new
        ]
        if identity:
            changes.append(", ".join(identity) + " recorded")
        return tuple(changes)

    def _plan_new(
        self,
        person: Person,
        year_group: str | None,
        duplicates: DuplicateFinder,
        usernames: UsernameAllocator,
    ) -> None:
        candidates = [c for c in duplicates.candidates(person, year_group) if c not in self.claimed]
        if candidates:
            account_id = candidates[0]
            account = self.snapshot.accounts[account_id]
            decision = self.choices.duplicates.get(person.key, self.choices.duplicate_default)
            self.plan.duplicates.append(
                PossibleDuplicate(
                    person.key,
                    person.display_name,
                    person.role,
                    account_id,
                    account.username,
                    account.display_name,
                    decision,
                )
            )
            if decision == "skip":
                return
            if decision == "link":
                self.claimed[account_id] = person.key
                after = self._values(person, year_group, account)
                changes = (f"same person: linked to {account.username}", *self._describe(account, after))
                self.plan.people.append(
                    PersonChange("possible_duplicates", account_id, person.key, account, after, changes)
                )
                return
        kind: PersonKind = "new_pupils" if person.role == "pupil" else "new_staff"
        if candidates:
            kind = "possible_duplicates"
        fmt = (
            self.choices.pupil_username_format
            if person.role == "pupil"
            else self.choices.staff_username_format
        )
        username = usernames.allocate(fmt, person.forename, person.surname, fallback=person.role)
        after = self._values(person, year_group, None, username)
        password = None
        if person.role == "pupil":
            password_format = self.choices.password_formats.get(year_group or "") or default_password_format(
                year_group
            )
            password = generate_password(password_format, self.rng)
        changes = ("new account " + username,)
        self.plan.people.append(PersonChange(kind, None, person.key, None, after, changes, password))

    def _plan_leavers(self, identity: IdentityIndex) -> None:
        accounts = self.snapshot.accounts
        if self.roster.complete:
            # Only roles the export covers: a pupils-only file says nothing about staff.
            covered = {person.role for person in self.roster.people}
            leaving = [
                account_id
                for account_id, account in accounts.items()
                if account.linked
                and account.status == "active"
                and account.role in covered
                and account_id not in self.claimed
            ]
        else:
            found = (identity.by_link(self.roster.source, key) for key in sorted(self.roster.removed))
            leaving = [
                account_id
                for account_id in found
                if account_id is not None
                and accounts[account_id].status == "active"
                and account_id not in self.claimed
            ]
        for account_id in leaving:
            before = accounts[account_id]
            after = replace(before, status="archived")
            self.plan.people.append(
                PersonChange("leavers", account_id, None, before, after, ("left: archived, login kept",))
            )

    def _check_hold(self) -> None:
        linked_active = sum(1 for a in self.snapshot.accounts.values() if a.linked and a.status == "active")
        leavers = sum(1 for _ in self.plan.people_of("leavers"))
        threshold = self.choices.hold_threshold
        if leavers and linked_active and leavers > threshold * linked_active:
            self.plan.hold_reasons.append(
                f"{leavers} of {linked_active} synced users ({leavers / linked_active:.0%}) would be "
                "archived "
                f"as leavers, more than the {threshold:.0%} safety limit. Check the export is complete "
                "(at the start of a school year, the top year leaving is expected)."
            )
        last = self.snapshot.last_roster_size
        size = len(self.roster.people)
        if self.roster.complete and last and size < self.choices.truncation_ratio * last:
            self.plan.hold_reasons.append(
                f"The export holds {size} people, far fewer than the {last} of the last sync: "
                "it may be truncated or filtered."
            )
        fatal = self.roster.fatal_problems
        if fatal:
            self.plan.hold_reasons.append(
                f"The export has {len(fatal)} error(s) that are not about one person: {fatal[0].describe()}"
            )
