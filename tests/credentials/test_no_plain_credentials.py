"""A dump of every table holds no pupil's password or picture PIN in plain text, after every kind of use."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

from axes.models import AccessAttempt
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.core.management import call_command
from django.test import Client

from missync.accounts.models import Account, SyncRun
from missync.credentials.activation import send_activation_emails

from .conftest import SyncedSchool, pupils_with, secret_of, taught_class

# The encrypted store itself: ciphertext by design (checked to decrypt, not to be readable).
CIPHERTEXT = {("accounts.account", "credential")}
# Random or derived values with no plain credential in them, left out of the digit search only.
RANDOM = {
    ("credentials.pupilcredentialstate", "nonce"),
    ("credentials.pupilcredentialstate", "credential_digest"),
}


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def dumped_text() -> list[tuple[str, str, str]]:
    """(model, field, text) for every text value of every row of every table (sessions decoded too)."""
    out = io.StringIO()
    call_command("dumpdata", format="json", stdout=out)
    rows = json.loads(out.getvalue())
    assert {"accounts.account", "credentials.credentialevent", "axes.accessattempt", "sessions.session"} <= {
        row["model"] for row in rows
    }
    found = []
    for row in rows:
        for field, value in row["fields"].items():
            if (row["model"], field) in CIPHERTEXT:
                continue
            found.extend((row["model"], field, text) for text in strings(value))
        if row["model"] == "sessions.session":
            decoded = json.dumps(SessionStore().decode(row["fields"]["session_data"]))
            found.append((row["model"], "session_data (decoded)", decoded))
    return found


def test_a_database_dump_shows_no_plain_password_or_pin(
    oak: SyncedSchool, admin: Client, teacher: Client
) -> None:
    typed = pupils_with(oak.school, picture=False)[:3]
    pictured = pupils_with(oak.school, picture=True)[:3]
    # Use logins every way they can be used: showing a password, resets, a class change, cards, activation
    # emails, then sign-ins (right and wrong, typed and tapped) and a lockout, so their records remain.
    admin.post(f"/oak/manage/pupils/{typed[1].pk}/login/", {"action": "show"})
    admin.post(f"/oak/manage/pupils/{typed[2].pk}/reset/", {"format": "animals"})
    mine = taught_class(oak)
    teacher.post(
        f"/oak/manage/classes/{mine.pk}/passwords/", {"format": "two-digit-picture-pin", "confirm": "on"}
    )
    admin.post("/oak/manage/cards/", {"kind": "class", "school_class": mine.pk})
    send_activation_emails(oak.school, SyncRun.objects.get(school=oak.school))
    assert mail.outbox
    pupil_browser = Client()
    pupil_browser.post("/oak/", {"stage": "password", "username": typed[0].username, "password": "Wrong00"})
    pupil_browser.post(
        "/oak/", {"stage": "password", "username": typed[0].username, "password": secret_of(typed[0])}
    )
    tapper = Client()
    pin = secret_of(pictured[0])
    tapper.post(
        "/oak/", {"stage": "picture", "username": pictured[0].username, "pin": pin[:-1], "digit": pin[-1]}
    )
    wrong_pin = "".join(str((int(d) + 3) % 10) for d in secret_of(pictured[1]))
    for _ in range(5):  # typed in full, as the pad sends it with JavaScript
        Client().post(
            "/oak/", {"stage": "picture", "username": pictured[1].username, "pin": wrong_pin, "go": "1"}
        )
    assert AccessAttempt.objects.filter(username__endswith=f":{pictured[1].username.lower()}").exists()

    pupils = list(Account.objects.filter(school=oak.school, role="pupil"))
    secrets = {secret_of(p) for p in pupils} | {pin, wrong_pin}
    words = {s.lower() for s in secrets if not s.isdigit()}
    pins = {s for s in secrets if s.isdigit()}
    assert len(words) > 100 and len(pins) > 50
    texts = dumped_text()
    for model, field, text in texts:
        lowered = text.lower()
        # A typed password never appears anywhere, not even inside a longer text.
        hits = [w for w in words if w in lowered]
        assert not hits, f"{model}.{field} holds a pupil's password"
        # A PIN is digits, which dates and ids contain by chance: it must never be a whole value, nor
        # follow a form field's name as it would in a logged request.
        assert text.strip() not in pins, f"{model}.{field} holds a pupil's PIN"
        if (model, field) not in RANDOM:
            for form_field in ("pin=", "digit=", "password=", '"pin": "', '"password": "'):
                assert not any(f"{form_field}{p}" in text for p in pins | secrets), (
                    f"{model}.{field}: {form_field}"
                )
    # and the encrypted column really is encrypted: every value is a Fernet token
    for pupil in pupils:
        assert pupil.credential.startswith("gAAAAA") and len(pupil.credential) > 80
