"""Login cards: the PDF holds every username and each picture PIN's digits, from every entry point."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2
from click.testing import CliRunner
from django.test import Client
from pypdf import PdfReader

from missync.accounts.models import Account, SchoolClass, SyncRun
from missync.cli import Command
from missync.credentials.cards import LoginCard, printable, qr_operators, render_cards
from missync.credentials.cli import COMMANDS
from missync.credentials.models import CredentialEvent
from missync.credentials.printing import cards_for_class, cards_for_run
from missync.credentials.pupils import pupil_from_qr

from .conftest import OUTPUT, SyncedSchool, compact, pdf_text, secret_of, taught_class


def test_render_cards_lays_out_eight_a_page_with_pins_and_starred_staff() -> None:
    cards = [LoginCard(f"Pupil {n}", f"PupilP{n}", "Oak", "Year 1", "0412") for n in range(8)]
    cards.append(
        LoginCard("Łukasz Dragoş", "LukaszD", "Oak", "Reception", "46", qr_url="http://x.test/oak/qr/1.a:b/")
    )
    cards.append(LoginCard("Jane Teacher", "JaneT", "Oak", email="jane@oak.example.org"))
    content, pages = render_cards(cards, school_name="Oak Primary School", sign_in_url="http://x.test/oak/")
    assert pages == 2 and len(PdfReader(io.BytesIO(content)).pages) == 2
    text = compact(pdf_text(content))
    assert text.count("PicturePIN0412") == 8
    assert "LukaszDragos" in text and "PicturePIN46FrogBee" in text  # transliterated for the PDF fonts
    assert "JaneT" in text and "********" in text and "jane@oak.example.org" in text
    assert "Signinathttp://x.test/oak/" in text and "Scantosignin" in text


def test_an_empty_selection_still_gives_a_pdf() -> None:
    content, pages = render_cards([], school_name="Oak", sign_in_url="http://x.test/oak/")
    assert pages == 1 and "No login cards" in pdf_text(content)


def test_printable_keeps_western_names_and_transliterates_others() -> None:
    assert printable("Zoë O'Brien") == "Zoë O'Brien"
    assert printable("Łukasz Dragoş") == "Lukasz Dragos"


def test_qr_operators_paint_dark_runs_inside_the_square() -> None:
    ops = qr_operators("http://x.test/oak/qr/1.abc:def/", 10, 20, 68)
    assert ops.startswith("q 0 g ") and ops.endswith(" f Q") and ops.count(" re") > 50


def test_class_cards_hold_every_username_and_each_pin(oak: SyncedSchool) -> None:
    school_class = (
        SchoolClass.objects.filter(school=oak.school, kind="registration", registered__year_group="Year 1")
        .distinct()
        .first()
    )
    assert school_class is not None
    pupils = list(Account.objects.filter(registration_class=school_class, status="active"))
    pdf = cards_for_class(school_class, base="http://school.test")
    assert pdf.cards == len(pupils) and pdf.pages == -(-len(pupils) // 8)
    text = compact(pdf_text(pdf.content))
    for pupil in pupils:
        secret = secret_of(pupil)
        assert pupil.username in text
        assert secret.isdigit() and f"{pupil.username}PicturePIN{secret}" in text
    assert "Signinathttp://school.test/oak/" in text
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page = pypdfium2.PdfDocument(pdf.content)[0]
    image = page.render(scale=150 / 72).to_pil()
    path = OUTPUT / "year-1-class-page-1.png"
    image.save(path)
    assert path.stat().st_size > 10_000 and image.size[0] > 1000


def test_password_cards_show_the_typed_password(oak: SyncedSchool) -> None:
    school_class = (
        SchoolClass.objects.filter(school=oak.school, kind="registration", registered__year_group="Year 5")
        .distinct()
        .first()
    )
    assert school_class is not None
    pdf = cards_for_class(school_class, qr=False)
    text = compact(pdf_text(pdf.content))
    for pupil in Account.objects.filter(registration_class=school_class, status="active"):
        assert f"{pupil.username}Password{secret_of(pupil)}" in text


def test_cards_page_for_a_class_a_group_and_chosen_pupils(oak: SyncedSchool, admin: Client) -> None:
    page = admin.get("/oak/manage/cards/")
    assert page.status_code == 200 and b"Download class cards (PDF)" in page.content
    school_class = taught_class(oak)
    response = admin.post("/oak/manage/cards/", {"kind": "class", "school_class": school_class.pk, "qr": "1"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store" and "attachment" in response["Content-Disposition"]
    text = compact(pdf_text(response.content))
    pupils = Account.objects.filter(registration_class=school_class, status="active")
    assert all(p.username in text for p in pupils)
    group = SchoolClass.objects.filter(school=oak.school, kind="subject").first()
    assert group is not None
    response = admin.post("/oak/manage/cards/", {"kind": "group", "school_class": group.pk})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    chosen = list(pupils[:2])
    response = admin.post("/oak/manage/cards/", {"kind": "pupils", "pupils": [p.pk for p in chosen]})
    text = compact(pdf_text(response.content))
    assert all(p.username in text for p in chosen)
    assert CredentialEvent.objects.filter(school=oak.school, action="printed").count() == 3


def test_a_teacher_prints_only_their_own_classes(oak: SyncedSchool, teacher: Client) -> None:
    mine = taught_class(oak)
    assert teacher.post("/oak/manage/cards/", {"kind": "class", "school_class": mine.pk}).status_code == 200
    other = SchoolClass.objects.filter(school=oak.school, kind="registration").exclude(pk=mine.pk).first()
    assert other is not None
    assert teacher.post("/oak/manage/cards/", {"kind": "class", "school_class": other.pk}).status_code == 404
    stranger = Account.objects.filter(registration_class=other, status="active").first()
    assert stranger is not None
    response = teacher.post("/oak/manage/cards/", {"kind": "pupils", "pupils": [stranger.pk]})
    assert response["Content-Type"] != "application/pdf"  # nobody visible was chosen: the page again


def test_cards_for_a_sync_run_and_its_url(oak: SyncedSchool, admin: Client, teacher: Client) -> None:
    run = SyncRun.objects.get(school=oak.school)
    content = cards_for_run(run, base="http://school.test")
    text = compact(pdf_text(content))
    new = Account.objects.filter(school=oak.school, role="pupil")[:5]
    assert all(p.username in text for p in new)
    assert "********" in text  # the run's new staff, starred
    response = admin.get(f"/oak/manage/cards/run/{run.pk}/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert teacher.get(f"/oak/manage/cards/run/{run.pk}/").status_code == 404


def test_qr_url_on_a_card_signs_in_that_pupil(oak: SyncedSchool) -> None:
    from missync.credentials.pupils import ensure_state, qr_token

    pupil = Account.objects.filter(school=oak.school, role="pupil").first()
    assert pupil is not None
    assert pupil_from_qr(oak.school, qr_token(pupil, ensure_state(pupil))) == pupil


def test_cards_command(oak: SyncedSchool, tmp_path: Path) -> None:
    group = Command("missync", commands={command.name: command for command in COMMANDS})
    school_class = taught_class(oak)
    out = tmp_path / "cards.pdf"
    result = CliRunner().invoke(group, ["cards", "oak", "--class", school_class.name, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "login card(s)" in result.output and out.read_bytes().startswith(b"%PDF")
    text = compact(pdf_text(out.read_bytes()))
    assert all(
        p.username in text for p in Account.objects.filter(registration_class=school_class, status="active")
    )
    missing = CliRunner().invoke(group, ["cards", "oak", "--class", "No Such Class", "-o", str(out)])
    assert missing.exit_code == 1 and "no class called" in missing.output
    both = CliRunner().invoke(group, ["cards", "oak", "-o", str(out)])
    assert both.exit_code == 2
