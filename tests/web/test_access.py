"""Sign-in and the walls between schools and roles."""

from __future__ import annotations

from django.test import Client

from missync.accounts.models import Account

from .conftest import PASSWORD, SyncedSchool, signed_in


def test_sign_in_page_and_a_wrong_password(oak: SyncedSchool) -> None:
    client = Client()
    page = client.get("/oak/")
    assert page.status_code == 200 and b"Sign in to Oak Primary School" in page.content
    wrong = client.post("/oak/", {"email": oak.admin_email, "password": "nope"})
    assert wrong.status_code == 200 and b"do not match" in wrong.content
    unknown = client.post("/oak/", {"email": "nobody@example.org", "password": PASSWORD})
    assert unknown.content.count(b"do not match") == 1  # same message: never says whether a user exists
    assert client.get("/oak/manage/").status_code == 302


def test_an_admin_of_one_school_cannot_reach_another(oak: SyncedSchool, elm: SyncedSchool) -> None:
    client = signed_in(oak, oak.admin_email)
    assert client.get("/oak/manage/").status_code == 200
    assert client.get("/elm/manage/").status_code == 404
    assert client.get("/elm/manage/sync/").status_code == 404
    # oak's admin cannot sign in on elm's page either
    other = Client()
    response = other.post("/elm/", {"email": oak.admin_email, "password": PASSWORD})
    assert response.status_code == 200 and b"do not match" in response.content


def test_a_teacher_sees_only_their_classes_and_not_the_wizard(oak: SyncedSchool, teacher: Client) -> None:
    page = teacher.get("/oak/manage/")
    assert page.status_code == 200
    assert teacher.get("/oak/manage/sync/").status_code == 404
    taught = set(oak.teacher.memberships.values_list("school_class_id", flat=True))
    pupils = Account.objects.filter(school=oak.school, role="pupil")
    visible = [p for p in pupils if f">{p.username}<".encode() in page.content]
    assert visible
    others = (
        Account.objects.filter(school=oak.school, role="pupil")
        .exclude(registration_class_id__in=taught)
        .exclude(memberships__school_class_id__in=taught)
    )
    assert others.count() > 300
    for pupil in others:
        assert f">{pupil.username}<".encode() not in page.content


def test_a_teacher_who_has_left_can_no_longer_sign_in_or_see_pupils(
    oak: SyncedSchool, teacher: Client
) -> None:
    assert teacher.get("/oak/manage/").status_code == 200
    Account.objects.filter(pk=oak.teacher.pk).update(status="archived")  # a leaver, archived by a sync
    assert teacher.get("/oak/manage/").status_code == 404  # the open session stops working at once
    response = Client().post("/oak/", {"email": oak.teacher_email, "password": PASSWORD})
    assert response.status_code == 200 and b"do not match" in response.content
