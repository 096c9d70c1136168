"""`missync cards` and `missync activation-emails`, registered on the main group from `COMMANDS`:
`for command in COMMANDS: main.add_command(command)` (the group sets Django up and reports errors in a line).
"""

from __future__ import annotations

import getpass
from pathlib import Path

import click


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


@click.command("cards")
@click.argument("slug")
@click.option("--class", "class_name", metavar="NAME", help="Cards for every pupil of this class.")
@click.option("--group", "group_name", metavar="NAME", help="Cards for every pupil of this subject group.")
@click.option(
    "--pupil", "usernames", multiple=True, metavar="USERNAME", help="Cards for these pupils (repeat)."
)
@click.option("--run", "run_id", type=int, metavar="N", help="Cards for the new users of sync run N.")
@click.option("--staff", is_flag=True, help="Also print staff cards for the class or group.")
@click.option("--no-qr", is_flag=True, help="Leave out the QR codes that sign pupils in.")
@click.option("--base-url", metavar="URL", help="The site's address on the cards (default MISSYNC_BASE_URL).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path))
def cards_command(
    slug: str,
    class_name: str | None,
    group_name: str | None,
    usernames: tuple[str, ...],
    run_id: int | None,
    staff: bool,
    no_qr: bool,
    base_url: str | None,
    output: Path,
) -> None:
    """Print login cards of school SLUG (A4 PDF): a class, a group, chosen pupils or a sync's new users."""
    from missync.accounts.models import Account, SchoolClass, SyncRun
    from missync.accounts.services import InvalidInput
    from missync.accounts.store import get_school

    from .changes import record_event
    from .printing import cards_for_class, cards_for_pupils, cards_pdf_for_run

    chosen = [bool(class_name), bool(group_name), bool(usernames), run_id is not None]
    if sum(chosen) != 1:
        raise click.UsageError("choose one of --class, --group, --pupil or --run")
    school = get_school(slug)
    qr = not no_qr
    if class_name or group_name:
        kind = "registration" if class_name else "subject"
        name = (class_name or group_name or "").strip()
        found = SchoolClass.objects.filter(
            school=school, kind=kind, status="active", name__iexact=name
        ).first()
        if found is None:
            what = "class" if class_name else "subject group"
            raise InvalidInput(f"{slug} has no {what} called '{name}'")
        pdf = cards_for_class(found, base=base_url, qr=qr, staff=staff)
        record_event(school, _actor(), "printed", school_class=found, detail=f"{pdf.cards} cards")
    elif usernames:
        pupils = []
        for username in usernames:
            pupil = Account.objects.filter(
                school=school, role="pupil", status="active", username__iexact=username.strip()
            ).first()
            if pupil is None:
                raise InvalidInput(f"{slug} has no active pupil with the username '{username}'")
            pupils.append(pupil)
        pdf = cards_for_pupils(school, pupils, base=base_url, qr=qr)
        record_event(school, _actor(), "printed", detail=f"{pdf.cards} cards for chosen pupils")
    else:
        run = SyncRun.objects.filter(school=school, pk=run_id).first()
        if run is None:
            raise InvalidInput(f"{slug} has no sync run #{run_id}")
        pdf = cards_pdf_for_run(run, base=base_url, qr=qr)
        record_event(school, _actor(), "printed", detail=f"{pdf.cards} cards for sync #{run.pk}")
    output.write_bytes(pdf.content)
    click.echo(f"Wrote {pdf.cards} login card(s) on {pdf.pages} page(s) to {output}.")


@click.command("activation-emails")
@click.argument("slug")
@click.option(
    "--run", "run_id", type=int, metavar="N", help="New staff of sync run N (default: the last sync)."
)
@click.option(
    "--email", "emails", multiple=True, metavar="EMAIL", help="Send (again) to this member of staff."
)
def activation_emails_command(slug: str, run_id: int | None, emails: tuple[str, ...]) -> None:
    """Email new staff of school SLUG a link to set their password (and say where the emails went)."""
    from missync.accounts.models import Account, SyncRun
    from missync.accounts.services import InvalidInput
    from missync.accounts.store import get_school

    from .activation import email_destination, send_activation, send_activation_emails

    school = get_school(slug)
    if emails:
        sent = 0
        for email in emails:
            account = Account.objects.filter(
                school=school, role="staff", status="active", email__iexact=email.strip()
            ).first()
            if account is None:
                raise InvalidInput(f"{slug} has no active member of staff with the email {email}")
            sent += send_activation(account, actor=_actor())
    else:
        runs = SyncRun.objects.filter(school=school, kind="sync", status="applied")
        run = runs.filter(pk=run_id).first() if run_id is not None else runs.order_by("-id").first()
        if run is None:
            raise InvalidInput(f"{slug} has no applied sync" + (f" #{run_id}" if run_id is not None else ""))
        sent = send_activation_emails(school, run, actor=_actor())
    click.echo(f"Sent {sent} activation email(s): {email_destination()}.")


COMMANDS: list[click.Command] = [cards_command, activation_emails_command]
