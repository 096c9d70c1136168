"""Teachers and admins: a pupil's login page, new passwords for a pupil or a class, and the history."""

from __future__ import annotations

from django.test import Client

from missync.accounts.models import Account, School, SchoolClass
from missync.core.passwords import PASSWORD_PATTERNS
from missync.credentials.changes import year_format
from missync.credentials.models import CredentialEvent
from missync.credentials.pupils import ensure_state, qr_token

from .conftest import SyncedSchool, compact, pdf_text, secret_of, taught_class


def my_pupil(oak: SyncedSchool) -> Account:
    pupil = (
        Account.objects.filter(registration_class=taught_class(oak), status="active")
        .select_related("school")
        .first()
    )
    assert pupil is not None
    return pupil


def stranger(oak: SyncedSchool) -> Account:
    taught = set(oak.teacher.memberships.values_list("school_class_id", flat=True))
    found = (
        Account.objects.filter(school=oak.school, role="pupil", status="active")
        .exclude(registration_class_id__in=taught)
        .exclude(memberships__school_class_id__in=taught)
        .first()
    )
    assert found is not None
    return found


def test_a_teacher_views_their_pupils_password_and_it_is_recorded(oak: SyncedSchool, teacher: Client) -> None:
    pupil = my_pupil(oak)
    page = teacher.get(f"/oak/manage/pupils/{pupil.pk}/login/")
    assert page.status_code == 200 and pupil.username.encode() in page.content
    assert b'id="pupil-password"' not in page.content and b"Show password" in page.content
    assert "no-store" in page["Cache-Control"]
    shown = teacher.post(f"/oak/manage/pupils/{pupil.pk}/login/", {"action": "show"})
    assert f'id="pupil-password">{secret_of(pupil)}<'.encode() in shown.content
    event = CredentialEvent.objects.get(school=oak.school, action="viewed")
    assert event.account == pupil and event.actor == oak.teacher_email.lower()


def test_teachers_reach_only_their_pupils_and_schools_are_walled(
    oak: SyncedSchool, elm: SyncedSchool, teacher: Client, admin: Client
) -> None:
    other = stranger(oak)
    for path in ("login/", "card/", "reset/", "unlock/"):
        response = (
            teacher.post(f"/oak/manage/pupils/{other.pk}/{path}")
            if path != "login/"
            else teacher.get(f"/oak/manage/pupils/{other.pk}/login/")
        )
        assert response.status_code == 404, path
    assert admin.get(f"/oak/manage/pupils/{other.pk}/login/").status_code == 200
    elm_pupil = Account.objects.filter(school=elm.school, role="pupil").first()
    assert elm_pupil is not None
    assert admin.get(f"/oak/manage/pupils/{elm_pupil.pk}/login/").status_code == 404
    assert admin.get(f"/elm/manage/pupils/{elm_pupil.pk}/login/").status_code == 404
    assert admin.get("/elm/manage/cards/").status_code == 404
    other_class = other.registration_class
    assert other_class is not None
    assert teacher.get(f"/oak/manage/classes/{other_class.pk}/passwords/").status_code == 404
    assert teacher.get("/oak/manage/credentials/history/").status_code == 404
    assert Client().get(f"/oak/manage/pupils/{other.pk}/login/").status_code == 302


def test_resetting_one_password_uses_the_year_format_and_revokes_the_old_card(
    oak: SyncedSchool, teacher: Client
) -> None:
    pupil = my_pupil(oak)
    old = secret_of(pupil)
    token = qr_token(pupil, ensure_state(pupil))
    revision = School.objects.get(pk=oak.school.pk).revision
    response = teacher.post(f"/oak/manage/pupils/{pupil.pk}/reset/", {"format": year_format(pupil)})
    assert response.status_code == 302
    new = secret_of(pupil)
    assert new != old and PASSWORD_PATTERNS[year_format(pupil)].fullmatch(new)
    page = teacher.get(f"/oak/manage/pupils/{pupil.pk}/login/")  # shows the new password once
    assert f'id="pupil-password">{new}<'.encode() in page.content
    assert Client().get(f"/oak/qr/{token}/").status_code == 400
    assert School.objects.get(pk=oak.school.pk).revision == revision  # a sync preview stays valid
    event = CredentialEvent.objects.get(school=oak.school, action="reset")
    assert event.account == pupil and new not in event.detail and old not in event.detail
    # the reprinted card carries the new password
    card = teacher.post(f"/oak/manage/pupils/{pupil.pk}/card/", {"qr": "1"})
    assert card["Content-Type"] == "application/pdf" and new in compact(pdf_text(card.content))


def test_a_reset_can_choose_another_format(oak: SyncedSchool, admin: Client) -> None:
    pupil = my_pupil(oak)
    admin.post(f"/oak/manage/pupils/{pupil.pk}/reset/", {"format": "noun6-digits4"})
    assert PASSWORD_PATTERNS["noun6-digits4"].fullmatch(secret_of(pupil))


def test_a_whole_class_gets_new_passwords_in_a_chosen_format(oak: SyncedSchool, teacher: Client) -> None:
    school_class = taught_class(oak)
    pupils = list(Account.objects.filter(registration_class=school_class, status="active"))
    before = {p.pk: secret_of(p) for p in pupils}
    page = teacher.get(f"/oak/manage/classes/{school_class.pk}/passwords/")
    assert page.status_code == 200 and b"Change passwords" in page.content
    unconfirmed = teacher.post(f"/oak/manage/classes/{school_class.pk}/passwords/", {"format": "colours"})
    assert unconfirmed.status_code == 200 and secret_of(pupils[0]) == before[pupils[0].pk]
    done = teacher.post(
        f"/oak/manage/classes/{school_class.pk}/passwords/", {"format": "colours", "confirm": "on"}
    )
    assert done.status_code == 302
    for pupil in pupils:
        new = secret_of(pupil)
        assert new != before[pupil.pk] and PASSWORD_PATTERNS["colours"].fullmatch(new)
    event = CredentialEvent.objects.get(school=oak.school, action="class_reset")
    assert event.school_class == school_class and event.detail.startswith(f"{len(pupils)} pupils")


def test_the_history_page_lists_actions_without_secrets(oak: SyncedSchool, admin: Client) -> None:
    pupil = my_pupil(oak)
    admin.post(f"/oak/manage/pupils/{pupil.pk}/login/", {"action": "show"})
    admin.post(f"/oak/manage/pupils/{pupil.pk}/reset/", {"format": "animals"})
    school_class = SchoolClass.objects.filter(school=oak.school, kind="registration").first()
    assert school_class is not None
    admin.post("/oak/manage/cards/", {"kind": "class", "school_class": school_class.pk})
    page = admin.get("/oak/manage/credentials/history/")
    assert page.status_code == 200
    for words in (
        b"Viewed a pupil&#x27;s password",
        b"Reset a pupil&#x27;s password",
        b"Printed login cards",
    ):
        assert words in page.content
    assert secret_of(pupil).encode() not in page.content
