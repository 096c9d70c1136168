"""The `missync` command.

Exit codes: 0 done; 1 input or data error (one clear line on stderr, nothing written); 2 usage;
3 apply refused because the plan is held for review.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click

from missync.core.roster import SourceError

EXIT_ERROR, EXIT_USAGE, EXIT_HELD = 1, 2, 3


def configure_django() -> None:
    """Configure Django from the environment (settings are read once, here)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "missync.settings")
    import django

    django.setup()


def setup_django() -> None:
    """Configure Django and bring the database schema up to date."""
    configure_django()
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", verbosity=0, interactive=False)


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    click.echo(f"missync: error: {message}", err=True)
    sys.exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn every expected failure into one clear line and exit code 1 (3 for a held plan)."""
    from missync.accounts.apply import ApplyRefused, PlanHeld
    from missync.accounts.services import InvalidInput
    from missync.accounts.store import SchoolNotFound

    try:
        yield
    except PlanHeld as error:
        fail(f"{error}. Review it with `missync preview`, then apply with --confirm-hold.", EXIT_HELD)
    except (ApplyRefused, InvalidInput, SchoolNotFound, SourceError) as error:
        fail(str(error))
    except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
        raise
    except Exception as error:  # no stack traces for users; MISSYNC_DEBUG=1 shows them
        if os.environ.get("MISSYNC_DEBUG") == "1":
            raise
        fail(
            f"unexpected {type(error).__name__}; nothing was written. "
            "Run again with MISSYNC_DEBUG=1 for details."
        )


class Command(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        setup_django()
        with user_errors():
            return super().invoke(ctx)


@click.group(cls=Command, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Keep a school's user accounts in step with its MIS: preview, apply and undo a sync."""


# -- schools -----------------------------------------------------------------------------------
@main.group()
def school() -> None:
    """Create schools and set their remembered choices."""


@school.command("add")
@click.argument("slug")
@click.option("--name", required=True, help="The school's name.")
def school_add(slug: str, name: str) -> None:
    """Create a school (a tenant) called SLUG."""
    from missync.accounts.services import create_school

    created = create_school(slug, name)
    click.echo(f"Created school {created.slug} ({created.name}).")


@school.command("settings")
@click.argument("slug")
@click.option("--pupil-usernames", metavar="FORMAT", help="Username format for new pupils.")
@click.option("--staff-usernames", metavar="FORMAT", help="Username format for new staff.")
@click.option(
    "--password", "passwords", multiple=True, metavar='"YEAR=FORMAT"', help="Password format per year."
)
@click.option(
    "--map-year", "map_years", multiple=True, metavar='"MIS NAME=YEAR"', help="Map an MIS year name."
)
@click.option("--subject-groups", metavar='"NAME;NAME"', help="Import only these subject groups.")
@click.option("--all-subject-groups", is_flag=True, help="Import every subject group (the default).")
@click.option("--hold-threshold", type=float, help="Share of synced users archived that holds a plan (0.1).")
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
def school_settings(
    slug: str,
    pupil_usernames: str | None,
    staff_usernames: str | None,
    passwords: tuple[str, ...],
    map_years: tuple[str, ...],
    subject_groups: str | None,
    all_subject_groups: bool,
    hold_threshold: float | None,
    as_json: bool,
) -> None:
    """Show or change the remembered choices of school SLUG (formats apply to new users only)."""
    from missync.accounts.services import parse_pairs, update_settings
    from missync.accounts.store import get_school

    if subject_groups is not None and all_subject_groups:
        raise click.UsageError("give either --subject-groups or --all-subject-groups, not both")
    found = get_school(slug)
    update_settings(
        found,
        pupil_usernames=pupil_usernames,
        staff_usernames=staff_usernames,
        passwords=parse_pairs(passwords, "--password"),
        year_map=parse_pairs(map_years, "--map-year"),
        subject_groups=subject_groups.split(";") if subject_groups is not None else None,
        all_subject_groups=all_subject_groups,
        hold_threshold=hold_threshold,
    )
    settings = {
        "pupil_usernames": found.pupil_username_format,
        "staff_usernames": found.staff_username_format,
        "passwords": found.password_formats,
        "year_map": found.year_map,
        "subject_groups": found.subject_groups,
        "hold_threshold": found.hold_threshold,
    }
    if as_json:
        click.echo(json.dumps(settings, indent=2))
        return
    for key, value in settings.items():
        shown = "all" if key == "subject_groups" and value is None else value
        click.echo(f"{key.replace('_', ' ')}: {shown}")


# -- users -------------------------------------------------------------------------------------
@main.group()
def user() -> None:
    """Add users by hand."""


@user.command("add")
@click.argument("slug")
@click.option("--forename", required=True)
@click.option("--surname", required=True)
@click.option("--role", type=click.Choice(["pupil", "staff"]), default="pupil", show_default=True)
@click.option("--class", "class_name", help="Registration class (pupils) or class taught (staff).")
@click.option("--year", help="Year group, e.g. 'Year 3'.")
@click.option("--email")
@click.option("--dob", type=click.DateTime(formats=["%Y-%m-%d"]), help="Date of birth, YYYY-MM-DD.")
def user_add(
    slug: str,
    forename: str,
    surname: str,
    role: str,
    class_name: str | None,
    year: str | None,
    email: str | None,
    dob: dt.datetime | None,
) -> None:
    """Add a user to school SLUG by hand (a sync never changes or archives it)."""
    from missync.accounts.services import add_user
    from missync.accounts.store import get_school

    account, _ = add_user(
        get_school(slug),
        forename=forename,
        surname=surname,
        role=role,
        class_name=class_name,
        year=year,
        email=email,
        dob=dob.date() if dob else None,
    )
    click.echo(f"Added {account.role} {account.forename} {account.surname} as {account.username}.")


@main.command("users")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True)
@click.option("--archived", is_flag=True, help="List archived accounts (leavers) instead.")
@click.option("--show-passwords", is_flag=True, help="Include pupils' passwords / picture PINs.")
def users(slug: str, as_json: bool, archived: bool, show_passwords: bool) -> None:
    """List the accounts of school SLUG."""
    from missync.accounts.services import list_users
    from missync.accounts.store import get_school

    rows = list_users(get_school(slug), archived=archived, show_passwords=show_passwords)
    if as_json:
        click.echo(json.dumps(rows, indent=1))
        return
    for row in rows:
        place = row["registration_group"] or ", ".join(row["groups"]) or "-"
        who = f"{row['forename']} {row['surname']}"
        line = f"{row['username']:<18} {who} ({row['role']}, {row['year_group'] or '-'}, {place})"
        if show_passwords and row.get("password"):
            line += f"  password: {row['password']}"
        click.echo(line)
    click.echo(f"{len(rows)} {'archived' if archived else 'active'} account(s).")


# -- sync --------------------------------------------------------------------------------------
@main.command("preview")
@click.argument("slug")
@click.argument("sources", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as one JSON object.")
@click.option(
    "--out", type=click.Path(dir_okay=False, writable=True), help="Also write the plan's JSON here."
)
@click.option(
    "--duplicates", type=click.Choice(["link", "new", "skip"]), help="Decide all possible duplicates."
)
def preview_command(
    slug: str, sources: tuple[str, ...], as_json: bool, out: str | None, duplicates: str | None
) -> None:
    """Show what syncing SOURCES into school SLUG would do. Writes nothing."""
    from missync.accounts.services import preview
    from missync.accounts.store import get_school

    overrides = {"duplicate_default": duplicates} if duplicates else {}
    result = preview(get_school(slug), sources, **overrides)
    document = result.plan.as_json()
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=1, default=str)
    if as_json:
        click.echo(json.dumps(document, default=str))
    else:
        from missync.report import print_plan

        print_plan(result.plan, click.echo)


@main.command("apply")
@click.argument("slug")
@click.argument("sources", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True)
@click.option(
    "--duplicates", type=click.Choice(["link", "new", "skip"]), help="Decide all possible duplicates."
)
@click.option("--confirm-hold", is_flag=True, help="Apply even though the plan is held (after reviewing it).")
def apply_command(
    slug: str, sources: tuple[str, ...], as_json: bool, duplicates: str | None, confirm_hold: bool
) -> None:
    """Sync SOURCES into school SLUG: preview, then write it all in one transaction."""
    from missync.accounts.apply import PlanHeld, apply_plan
    from missync.accounts.services import preview
    from missync.accounts.store import get_school
    from missync.report import print_plan

    found = get_school(slug)
    overrides = {"duplicate_default": duplicates} if duplicates else {}
    result = preview(found, sources, **overrides)
    plan = result.plan
    if plan.held and not confirm_hold:
        if as_json:
            click.echo(json.dumps(plan.as_json(), default=str))
        else:
            print_plan(plan, click.echo)
        raise PlanHeld("the plan is held for review: " + " ".join(plan.hold_reasons))
    with progress_bar(enabled=not as_json) as progress:
        run = apply_plan(
            found,
            plan,
            confirm_hold=confirm_hold,
            actor=f"cli:{getpass.getuser()}",
            source=result.roster.description or ", ".join(sources),
            progress=progress,
        )
    if as_json:
        document = plan.as_json()
        document["run"] = run.pk
        click.echo(json.dumps(document, default=str))
    else:
        print_plan(plan, click.echo, applied=True)
        click.echo(f"Applied as sync #{run.pk}. Undo it with `missync undo {slug}`.")
    from missync.credentials.activation import email_destination, send_activation_emails

    sent = send_activation_emails(found, run, actor=run.actor)
    if sent and not as_json:
        click.echo(f"{sent} new member(s) of staff sent an activation email ({email_destination()}).")


@main.command("undo")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True)
def undo_command(slug: str, as_json: bool) -> None:
    """Undo the last applied sync of school SLUG exactly."""
    from missync.accounts.apply import undo_last_run
    from missync.accounts.store import get_school

    undo = undo_last_run(get_school(slug), actor=f"cli:{getpass.getuser()}")
    undone = undo.undoes
    assert undone is not None
    if as_json:
        click.echo(json.dumps({"undone_run": undone.pk, "summary": undone.summary}))
    else:
        click.echo(f"Undid sync #{undone.pk} ({undone.source}): the school is as it was before it.")


# -- sign-ins and the web app ---------------------------------------------------------------------
def read_password(confirm: bool = True) -> str:
    """A password from stdin: typed twice at a terminal, else the first line of piped input."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=confirm)
    password = sys.stdin.readline().rstrip("\n")
    if not password:
        fail("no password on standard input: pipe it in, e.g. `missync admin add SLUG EMAIL < password.txt`")
    return password


@main.group("admin")
def admin_group() -> None:
    """School administrators' sign-ins."""


@admin_group.command("add")
@click.argument("slug")
@click.argument("email")
@click.option("--name", default="", help="The administrator's name, as shown on the pages.")
def admin_add(slug: str, email: str, name: str) -> None:
    """Let EMAIL sign in to school SLUG as its administrator (password read from stdin)."""
    from missync.accounts.store import get_school
    from missync.wizard.logins import create_login

    membership = create_login(get_school(slug), email, read_password(), role="admin", name=name)
    click.echo(f"{membership.user.email} can now sign in at /{slug}/ as a school admin.")


@main.group("teacher")
def teacher_group() -> None:
    """Teachers' sign-ins (they see only their own classes)."""


@teacher_group.command("add")
@click.argument("slug")
@click.argument("email")
def teacher_add(slug: str, email: str) -> None:
    """Let the member of staff with EMAIL sign in to school SLUG as a teacher (password from stdin)."""
    from missync.accounts.store import get_school
    from missync.wizard.logins import create_login

    membership = create_login(get_school(slug), email, read_password(), role="teacher")
    click.echo(f"{membership.user.email} can now sign in at /{slug}/ as a teacher.")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
@click.option("--threads", default=8, type=int, show_default=True)
def serve(host: str, port: int, threads: int) -> None:
    """Run the web app under a production WSGI server (waitress), static files included."""
    from waitress import serve as waitress_serve

    from missync.wsgi import application

    click.echo(f"missync is serving on http://{host}:{port}/ (Ctrl+C stops it)")
    waitress_serve(application, host=host, port=port, threads=threads, ident="missync")


@main.command("demo")
@click.option("--seed", type=int, default=2026, show_default=True, help="Seed of the generated school.")
@click.option(
    "--no-serve", is_flag=True, help="Sync in the terminal and exit instead of serving the web app."
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
def demo_command(seed: int, no_serve: bool, host: str, port: int) -> None:
    """Create a demo school with a ready MIS export and serve the web app (or sync it here: --no-serve)."""
    from missync.demo import run_demo

    run_demo(click.echo, seed=seed, serve=not no_serve, host=host, port=port)


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress bar on a terminal for long writes; nothing when output is piped or JSON."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    state: dict[str, Any] = {}

    def update(label: str, done: int, total: int) -> None:
        bar = state.get("bar")
        if bar is None:
            bar = click.progressbar(length=total, label="Writing", file=sys.stderr)
            bar.__enter__()
            state["bar"], state["done"] = bar, 0
        bar.update(done - state["done"])
        state["done"] = done

    try:
        yield update
    finally:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)


def _register_commands() -> None:
    """Commands that live with their own app: live MIS connections, login cards."""
    configure_django()
    from missync.connections.cli import COMMANDS as connection_commands
    from missync.credentials.cli import COMMANDS as credential_commands

    for command in [*connection_commands, *credential_commands]:
        main.add_command(command)


_register_commands()

if __name__ == "__main__":
    main()
