"""build_plan: data in, plan out. No database; an in-memory apply stands in for the store's."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from missync.core.plan import SUMMARY_KEYS, Plan
from missync.core.planning import build_plan
from missync.core.roster import Group, Person, Problem, Roster
from missync.core.snapshot import AccountValues, Choices, ClassValues, Snapshot, existing_ref


def apply_in_memory(plan: Plan, snapshot: Snapshot) -> Snapshot:
    """What the store does with a plan, on plain values (new classes and accounts get fresh ids)."""
    classes = dict(snapshot.classes)
    accounts = dict(snapshot.accounts)
    next_id = max([int(r[2:]) for r in classes] + [max(accounts, default=0)] + [0]) + 1
    refs: dict[str, str] = {}
    for change in plan.classes:
        if change.kind == "new":
            refs[change.ref] = existing_ref(next_id)
            next_id += 1
        classes[refs.get(change.ref, change.ref)] = change.after

    def fix(values: AccountValues) -> AccountValues:
        reg = values.registration_class
        return replace(
            values,
            registration_class=refs.get(reg, reg) if reg else None,
            groups=frozenset(refs.get(g, g) for g in values.groups),
        )

    for person in plan.people:
        account_id = person.account_id
        if account_id is None:
            account_id, next_id = next_id, next_id + 1
        accounts[account_id] = fix(person.after)
    return Snapshot(accounts, classes, snapshot.revision + 1, plan.roster_size if plan.complete else None)


def pupil(
    key: str, forename: str, surname: str, year: str = "Year 3", group: str = "3A", **more: object
) -> Person:
    more.setdefault("mis_id", key)
    return Person(
        key=key, role="pupil", forename=forename, surname=surname, year=year, registration_group=group, **more
    )  # type: ignore[arg-type]


def roster_of(*people: Person, groups: tuple[Group, ...] = (), complete: bool = True) -> Roster:
    roster = Roster(source="test", people=list(people), complete=complete)
    for group in groups or tuple(
        Group(p.registration_group, p.registration_group, "registration", "id-" + p.registration_group)
        for p in people
        if p.registration_group
    ):
        roster.add_group(group)
    return roster


RNG = random.Random(5)


def plan_of(roster: Roster, snapshot: Snapshot | None = None, **choices: object) -> Plan:
    return build_plan(roster, snapshot or Snapshot(), Choices(**choices), random.Random(1))  # type: ignore[arg-type]


def test_first_sync_creates_everyone_with_unique_usernames() -> None:
    roster = roster_of(pupil("1", "John", "Smith"), pupil("2", "John", "Stone"), pupil("3", "Zoë", "O'Brien"))
    plan = plan_of(roster)
    assert plan.summary()["new_pupils"] == 3 and plan.summary()["new_classes"] == 1
    assert [c.after.username for c in plan.people] == ["JohnS", "JohnS2", "ZoeO"]
    assert all(c.password for c in plan.people)


def test_randomness_is_injected() -> None:
    roster = roster_of(*(pupil(str(i), "Ann", f"Lee{i}") for i in range(5)))
    first = [c.password for c in build_plan(roster, Snapshot(), Choices(), random.Random(9)).people]
    second = [c.password for c in build_plan(roster, Snapshot(), Choices(), random.Random(9)).people]
    assert first == second


def test_password_format_per_year_group_for_new_users_only() -> None:
    roster = roster_of(
        pupil("1", "Amy", "Ng", year="Reception", group="RA"), pupil("2", "Bo", "Li", year="Y4", group="4A")
    )
    plan = plan_of(roster, password_formats={"Year 4": "noun6-digits4"})
    passwords = {c.after.year_group: c.password or "" for c in plan.people}
    assert passwords["Reception"].isdigit() and len(passwords["Reception"]) == 2
    assert passwords["Year 4"][:6].isalpha() and passwords["Year 4"][6:].isdigit()


def test_name_change_keeps_username_and_counts_as_updated() -> None:
    roster = roster_of(pupil("1", "Maya", "Patel"))
    snapshot = apply_in_memory(plan_of(roster), Snapshot())
    renamed = roster_of(pupil("1", "Maya", "Patel-Jones"))
    plan = plan_of(renamed, snapshot)
    assert plan.summary()["updated"] == 1
    assert plan.people[0].after.username == "MayaP" and plan.people[0].after.surname == "Patel-Jones"


def test_moved_wins_over_updated_and_class_matched_by_name_when_mis_id_changes() -> None:
    snapshot = apply_in_memory(plan_of(roster_of(pupil("1", "Ava", "Hill", group="3A"))), Snapshot())
    next_year = roster_of(
        pupil("1", "Ava", "Hill-Ray", year="Year 4", group="g9"),
        groups=(Group("g9", "4A", "registration", "2027-9"), Group("g3", "3A", "registration", "2027-3")),
    )
    plan = plan_of(next_year, snapshot)
    summary = plan.summary()
    assert summary["moved"] == 1 and summary["updated"] == 0
    assert summary["new_classes"] == 1  # 4A is new; 3A is matched by name despite its new MIS id
    assert [c.kind for c in plan.classes if c.after.name == "3A"] == ["relinked"]


def test_identity_order_upn_then_former_upn_then_mis_id() -> None:
    snapshot = Snapshot(
        accounts={
            1: AccountValues(
                "pupil", "AnnA", "Ann", "Ash", upn="A1", mis_id="m1", source="other", source_id="x1"
            ),
            2: AccountValues(
                "pupil", "AnnA2", "Ann", "Ash", upn="B2", mis_id="m2", source="other", source_id="x2"
            ),
        },
        classes={"c:9": ClassValues("3A", mis_id="id-3A", source="other")},
    )
    roster = roster_of(
        pupil("k1", "Ann", "Ash", upn="b2", mis_id="m1"), pupil("k2", "Ann", "Ash", former_upn="a1")
    )
    plan = plan_of(roster, snapshot)
    matched = {c.person_key: c.account_id for c in plan.people}
    assert matched == {"k1": 2, "k2": 1}  # UPN (any case) beats MIS id; a former UPN finds the account


def test_possible_duplicate_decisions() -> None:
    hand_made = AccountValues("pupil", "LilyE", "Lily", "Evans", year_group="Year 3")
    snapshot = Snapshot(accounts={7: hand_made})
    roster = roster_of(pupil("1", "Lily", "Evans", dob=dt.date(2018, 1, 2)))
    skip = plan_of(roster, snapshot)
    assert skip.summary()["possible_duplicates"] == 1 and skip.summary()["new_pupils"] == 0
    assert not skip.people  # undecided: left out, never created silently
    link = plan_of(roster, snapshot, duplicates={"1": "link"})
    assert link.people[0].account_id == 7 and link.people[0].after.username == "LilyE"
    assert link.people[0].after.linked
    new = plan_of(roster, snapshot, duplicate_default="new")
    assert new.people[0].account_id is None and new.people[0].after.username == "LilyE2"
    # resolved once, never asked again
    again = plan_of(roster, apply_in_memory(link, snapshot))
    assert not again.duplicates and not again.has_changes


def test_no_duplicate_when_dob_or_year_differ() -> None:
    snapshot = Snapshot(
        accounts={
            1: AccountValues("pupil", "LilyE", "Lily", "Evans", year_group="Year 5"),
            2: AccountValues("pupil", "LilyE2", "Lily", "Evans", dob=dt.date(2017, 5, 5)),
        }
    )
    plan = plan_of(roster_of(pupil("1", "Lily", "Evans", dob=dt.date(2018, 1, 2))), snapshot)
    assert plan.summary()["possible_duplicates"] == 0 and plan.summary()["new_pupils"] == 1


def test_hand_made_accounts_are_never_changed_or_archived() -> None:
    snapshot = Snapshot(accounts={1: AccountValues("pupil", "Kid", "Kid", "Hand")})
    plan = plan_of(roster_of(pupil("1", "Ola", "Berg")), snapshot)
    assert all(c.account_id != 1 for c in plan.people)
    assert plan.summary()["leavers"] == 0


def test_errors_keep_people_out_and_protect_their_accounts() -> None:
    first = roster_of(pupil("1", "Eve", "Ray"), pupil("2", "Tom", "Ray"))
    snapshot = apply_in_memory(plan_of(first), Snapshot())
    broken = roster_of(pupil("1", "Eve", "Ray", year="Y3 mixed"), pupil("2", "Tom", "Ray"))
    plan = plan_of(broken, snapshot)
    assert plan.summary()["errors"] == 1 and plan.summary()["leavers"] == 0
    assert plan.unmapped_year_groups == ["Y3 mixed"]
    assert "Y3 mixed" in plan.errors[0].problems[0].fix
    mapped = plan_of(broken, snapshot, year_map={"y3 MIXED": "Year 3"})
    assert mapped.summary()["errors"] == 0 and not mapped.has_changes


def test_source_problems_and_duplicate_ids_are_errors() -> None:
    problem = Problem("has no registration group", "Give the pupil one.", person="3")
    roster = roster_of(
        pupil("1", "A", "B"), pupil("1", "C", "D"), replace(pupil("3", "E", "F"), problems=(problem,))
    )
    plan = plan_of(roster)
    assert plan.summary()["errors"] == 2 and plan.summary()["new_pupils"] == 1


def test_delta_absence_is_not_leaving_but_removal_is() -> None:
    snapshot = apply_in_memory(
        plan_of(roster_of(*(pupil(str(i), "Al", f"Fox{i}") for i in range(10)))), Snapshot()
    )
    delta = roster_of(pupil("3", "Al", "Fox3"), complete=False)
    assert plan_of(delta, snapshot).summary()["leavers"] == 0
    delta.removed = {"4"}
    plan = plan_of(delta, snapshot)
    assert plan.summary()["leavers"] == 1 and not plan.held


def test_leaver_returns_restored_with_same_username() -> None:
    roster = roster_of(*(pupil(str(i), "Al", f"Fox{i}") for i in range(20)))
    snapshot = apply_in_memory(plan_of(roster), Snapshot())
    gone = roster_of(*roster.people[1:])
    snapshot = apply_in_memory(plan_of(gone, snapshot), snapshot)
    assert snapshot.accounts[min(snapshot.accounts, key=lambda i: i)].status in ("active", "archived")
    back = plan_of(roster, snapshot)
    assert back.summary()["restored"] == 1
    assert back.people[0].after.username == "AlF" and back.people[0].after.status == "active"


def test_safety_hold_on_mass_leavers_and_truncation() -> None:
    roster = roster_of(*(pupil(str(i), "Al", f"Fox{i}") for i in range(40)))
    snapshot = apply_in_memory(plan_of(roster), Snapshot())
    few = plan_of(roster_of(*roster.people[:37]), snapshot)
    assert not few.held  # 3 of 40 is under 10%
    many = plan_of(roster_of(*roster.people[:10]), snapshot)
    assert many.held and len(many.hold_reasons) == 2
    assert not plan_of(
        roster_of(*roster.people[:10]), snapshot, hold_threshold=0.9, truncation_ratio=0.1
    ).held


def test_subject_groups_only_the_chosen_ones() -> None:
    groups = (
        Group("3A", "3A", "registration", "r"),
        Group("ch", "Choir", "subject", "s1"),
        Group("ma", "Maths 1", "subject", "s2"),
    )
    roster = roster_of(pupil("1", "Al", "Fox", groups=("ch", "ma")), groups=groups)
    plan = plan_of(roster, subject_groups=frozenset({"Choir"}))
    assert sorted(c.after.name for c in plan.classes) == ["3A", "Choir"]
    assert len(plan.people[0].after.groups) == 1


# -- properties --------------------------------------------------------------------------------
names = st.sampled_from(["Amelia", "Amelie", "Jack", "Zoë", "Siân", "O'Neil", "Li", "Ma'Aké", "Jo"])
surnames = st.sampled_from(["Jones", "Smith", "Smith-Jones", "O'Brien", "Ng", "Nowak"])
years = st.sampled_from(["Reception", "Y1", "Year 2", "3", "Year Six", "R"])
classes = st.sampled_from(["RA", "1A", "2B", "3 Oak", "6 Ash"])


@st.composite
def rosters(draw: st.DrawFn) -> Roster:
    count = draw(st.integers(0, 25))
    keys = draw(st.lists(st.integers(0, 60), min_size=count, max_size=count, unique=True))
    people = [
        pupil(
            str(k),
            draw(names),
            draw(surnames),
            year=draw(years),
            group=draw(classes),
            upn=draw(st.none() | st.just(f"U{k:04d}")),
        )
        for k in keys
    ]
    return roster_of(*people)


@settings(max_examples=150, deadline=None)
@given(rosters(), rosters(), st.integers(0, 1000))
def test_after_applying_a_plan_the_same_roster_plans_nothing(
    first: Roster, second: Roster, seed: int
) -> None:
    choices = Choices(hold_threshold=1.0, truncation_ratio=0.0)
    snapshot = apply_in_memory(build_plan(first, Snapshot(), choices, random.Random(seed)), Snapshot())
    plan = build_plan(second, snapshot, choices, random.Random(seed))
    summary = plan.summary()
    # every person of the roster counts in exactly one line; leavers are accounts not in it
    people_lines = sum(
        summary[k] for k in SUMMARY_KEYS if k not in ("new_classes", "removed_classes", "leavers")
    )
    assert people_lines == len(second.people)
    after = apply_in_memory(plan, snapshot)
    usernames = [a.username.lower() for a in after.accounts.values()]
    assert len(usernames) == len(set(usernames))
    again = build_plan(second, after, choices, random.Random(seed))
    assert not again.has_changes, again.summary()
    assert again.summary()["unchanged"] == len(second.people)
    # accounts present before keep their usernames whatever happened
    for account_id, values in snapshot.accounts.items():
        assert after.accounts[account_id].username == values.username


def test_a_delta_keeps_a_known_pupils_class_but_a_new_pupil_needs_one() -> None:
    snapshot = apply_in_memory(plan_of(roster_of(pupil("1", "Al", "Fox", group="3A"))), Snapshot())
    delta = roster_of(
        pupil("1", "Al", "Foxe", group=None), pupil("2", "Bo", "Fox", group=None), complete=False
    )  # type: ignore[arg-type]
    plan = plan_of(delta, snapshot)
    assert plan.summary()["updated"] == 1 and plan.summary()["errors"] == 1
    assert plan.people[0].after.registration_class == plan.people[0].before.registration_class  # type: ignore[union-attr]
    assert plan.errors[0].person_key == "2"


def test_an_export_without_staff_does_not_archive_staff() -> None:
    teacher = Person(key="t1", role="staff", forename="Ida", surname="Lowe", email="il@example.org")
    snapshot = apply_in_memory(plan_of(roster_of(pupil("1", "Al", "Fox"), teacher)), Snapshot())
    plan = plan_of(roster_of(pupil("1", "Al", "Fox")), snapshot)
    assert plan.summary()["leavers"] == 0 and plan.summary()["unchanged"] == 1


def test_an_export_without_pupils_does_not_archive_classes() -> None:
    teacher = Person(key="t1", role="staff", forename="Ida", surname="Lowe", email="il@example.org")
    snapshot = apply_in_memory(plan_of(roster_of(pupil("1", "Al", "Fox"), teacher)), Snapshot())
    plan = plan_of(roster_of(teacher), snapshot)
    assert plan.summary()["removed_classes"] == 0 and plan.summary()["leavers"] == 0
