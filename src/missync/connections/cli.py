"""`missync connect` and `missync connection status|test`: a school's live MIS connection from the shell.

Secrets are read from standard input (`--token-stdin`) or a hidden prompt, never from the command line,
where they would land in the shell's history and the process list. `COMMANDS` lists the commands for
the main `missync` group to register.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from .models import PROVIDER_CHOICES

PROVIDER_NAMES = [code for code, _ in PROVIDER_CHOICES]


def _read_secret(provider: str, from_stdin: bool) -> str:
    from .services import SECRET_NAMES

    what = SECRET_NAMES[provider]
    if from_stdin:
        secret = sys.stdin.readline().strip()
    elif sys.stdin.isatty():
        secret = click.prompt(f"The {provider} {what}", hide_input=True, err=True).strip()
    else:
        raise click.UsageError(f"give the {what} on standard input with --token-stdin")
    if not secret:
        raise click.UsageError(f"no {what} was given on standard input")
    return secret


def _print_status(status: Any, echo: Any = click.echo) -> None:
    checked = f" (checked {status.checked_at:%Y-%m-%d %H:%M})" if status.checked_at else ""
    where = status.settings.get("school_id") or status.settings.get("establishment") or ""
    where += f" at {status.settings['base_url']}" if status.settings.get("base_url") else ""
    echo(f"{status.provider}: {status.state.replace('_', ' ')}{checked}{': ' + where if where else ''}")
    echo(f"  {status.message}")
    for missing in status.missing:
        kind = "required" if missing.required else "optional"
        echo(f"  missing {kind} permission {missing.name}: {missing.cost}")


@click.command("connect")
@click.argument("slug")
@click.argument("provider", type=click.Choice(PROVIDER_NAMES))
@click.option("--school-id", help="Wonde: the school's Wonde id (e.g. A1930499544).")
@click.option("--base-url", help="The provider's API address (Wonde: the school's region).")
@click.option("--establishment", help="Xporter: the school's DfE number (LA code and establishment).")
@click.option("--app-id", help="Xporter: missync's app id (relying party).")
@click.option("--client-id", help="OneRoster API: the OAuth2 client id.")
@click.option("--token-url", help="OneRoster API: where tokens are issued (default <server>/oauth/token).")
@click.option("--login-url", help="Xporter: the Groupcall login service (default: the usual one).")
@click.option("--token-stdin", is_flag=True, help="Read the token / secret from standard input.")
@click.option("--contact-name", help="Wonde access request: who at the school to contact.")
@click.option("--contact-email", help="Wonde access request: their email address.")
@click.option("--no-request-access", is_flag=True, help="Wonde: register without requesting access.")
@click.option("--json", "as_json", is_flag=True, help="Print the connection's status as JSON.")
def connect_command(
    slug: str,
    provider: str,
    school_id: str | None,
    base_url: str | None,
    establishment: str | None,
    app_id: str | None,
    client_id: str | None,
    token_url: str | None,
    login_url: str | None,
    token_stdin: bool,
    contact_name: str | None,
    contact_email: str | None,
    no_request_access: bool,
    as_json: bool,
) -> None:
    """Register school SLUG with PROVIDER (wonde, xporter or oneroster-api) and show its status.

    For Wonde this also asks the school to approve missync (unless --no-request-access); the status
    then stays pending until the school approves it in the Wonde portal.
    """
    from missync.accounts.store import get_school

    from .services import check_status, register, request_access

    school = get_school(slug)
    settings = {
        "school_id": school_id,
        "base_url": base_url,
        "establishment": establishment,
        "app_id": app_id,
        "client_id": client_id,
        "token_url": token_url,
        "login_url": login_url,
    }
    settings = {key: value for key, value in settings.items() if value}
    settings["secret"] = _read_secret(provider, token_stdin)
    register(school, provider, settings)
    if provider == "wonde" and not no_request_access:
        first, _, last = (contact_name or "").strip().partition(" ")
        contact = {"first_name": first, "last_name": last, "email_address": contact_email or ""}
        contacts = [contact] if contact_name or contact_email else []
        status = request_access(school, provider, contacts)
    else:
        status = check_status(school, provider)
    if as_json:
        click.echo(json.dumps(status.as_dict(), indent=1))
        return
    click.echo(f"Registered {slug} with {provider}.")
    _print_status(status)


@click.group("connection")
def connection_group() -> None:
    """Check a school's live MIS connections."""


@connection_group.command("status")
@click.argument("slug")
@click.argument("provider", required=False, type=click.Choice(PROVIDER_NAMES))
@click.option("--json", "as_json", is_flag=True, help="Print the statuses as JSON.")
@click.option("--cached", is_flag=True, help="Show the last status checked, without asking the provider.")
def status_command(slug: str, provider: str | None, as_json: bool, cached: bool) -> None:
    """Show where the connections of school SLUG stand (approved, pending, missing permissions, failed)."""
    from missync.accounts.services import InvalidInput
    from missync.accounts.store import get_school

    from .models import Connection
    from .services import check_status, stored_status

    school = get_school(slug)
    providers = (
        [provider]
        if provider
        else list(
            Connection.objects.filter(school=school).order_by("provider").values_list("provider", flat=True)
        )
    )
    if not providers:
        raise InvalidInput(
            f"school '{slug}' has no connection: register one with `missync connect {slug} ...`"
        )
    statuses = [(stored_status if cached else check_status)(school, name) for name in providers]
    if as_json:
        click.echo(json.dumps([status.as_dict() for status in statuses], indent=1))
        return
    for status in statuses:
        _print_status(status)


@connection_group.command("test")
@click.argument("slug")
@click.argument("provider", type=click.Choice(PROVIDER_NAMES))
def test_command(slug: str, provider: str) -> None:
    """Test the PROVIDER connection of school SLUG now: exit 1 with the reason when it cannot sync."""
    from missync.accounts.store import get_school

    from .services import test_connection

    outcome = test_connection(get_school(slug), provider)
    click.echo(outcome.message)
    for missing in outcome.status.missing:
        kind = "required" if missing.required else "optional"
        click.echo(f"  missing {kind} permission {missing.name}: {missing.cost}")
    if not outcome.ok:
        sys.exit(1)


COMMANDS: list[click.Command] = [connect_command, connection_group]
