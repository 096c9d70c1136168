"""Properties of apply and undo on the real database: random rosters, each example rolled back."""

from __future__ import annotations

import random

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from missync.accounts.apply import apply_plan, undo_last_run
from missync.accounts.models import School
from missync.accounts.store import load_snapshot
from missync.core.planning import build_plan
from missync.core.roster import Group, Person, Roster
from missync.core.snapshot import Choices
from tests.store.helpers import school_state

CHOICES = Choices(hold_threshold=1.0, truncation_ratio=0.0)
names = st.sampled_from(["Amelia", "Amelie", "Zoë", "Siân", "O'Neil", "Li", "Jo", "Omar"])
surnames = st.sampled_from(["Jones", "Smith", "Smith-Jones", "O'Brien", "Ng"])
years = st.sampled_from(["Reception", "Y1", "Year 2", "3", "Year Six"])
classes = st.sampled_from(["RA", "1A", "2B", "3 Oak", "6 Ash"])
subjects = st.sampled_from(["Choir", "Maths 1", "Phonics 2"])


@st.composite
def rosters(draw: st.DrawFn) -> Roster:
    count = draw(st.integers(0, 15))
    keys = draw(st.lists(st.integers(0, 30), min_size=count, max_size=count, unique=True))
    roster = Roster(source="test")
    for key in keys:
        group = draw(classes)
        # class ids change between draws sometimes: matched by name then
        roster.add_group(Group(group, group, "registration", f"{group}-{draw(st.integers(0, 1))}"))
        chosen = draw(st.lists(subjects, max_size=2, unique=True))
        for subject in chosen:
            roster.add_group(Group(subject, subject, "subject", subject))
        roster.people.append(
            Person(
                key=str(key),
                role="pupil",
                forename=draw(names),
                surname=draw(surnames),
                year=draw(years),
                registration_group=group,
                groups=tuple(chosen),
                mis_id=str(key),
                upn=draw(st.none() | st.just(f"U{key:04d}")),
            )
        )
    return roster


def sync(school: School, roster: Roster, seed: int) -> None:
    school.refresh_from_db()
    apply_plan(school, build_plan(roster, load_snapshot(school), CHOICES, random.Random(seed)))


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=rosters(), second=rosters(), seed=st.integers(0, 100))
def test_resync_plans_nothing_and_undo_restores_exactly(first: Roster, second: Roster, seed: int) -> None:
    with transaction.atomic():
        school = School.objects.create(slug="prop", name="Property School")
        sync(school, first, seed)
        before = school_state(school)
        sync(school, second, seed)
        school.refresh_from_db()
        again = build_plan(second, load_snapshot(school), CHOICES, random.Random(seed))
        assert not again.has_changes, again.summary()
        undo_last_run(school)
        assert school_state(school) == before
        transaction.set_rollback(True)
