"""What logins need beside the accounts: what binds QR codes and pupils' sessions to their current
credential, when staff were sent activation emails, and the school's history of credential actions.

None of these rows ever holds a password, a picture PIN or a token.
"""

from __future__ import annotations

from django.db import models

from missync.accounts.models import Account, School, SchoolClass

ACTION_CHOICES = [
    ("viewed", "Viewed a pupil's password"),
    ("printed", "Printed login cards"),
    ("reset", "Reset a pupil's password"),
    ("class_reset", "Changed a class's passwords"),
    ("unlocked", "Cleared a sign-in lockout"),
    ("activation_sent", "Sent an activation email"),
    ("activated", "Staff member set their password"),
]


class PupilCredentialState(models.Model):
    """A pupil's current credential as QR codes and sign-in sessions know it.

    `nonce` is part of every QR code and pupil session; it changes whenever the credential changes, which
    revokes old codes and signs out old sessions. `credential_digest` is a digest of the encrypted
    credential it belongs to: if the credential is rewritten anywhere else, the state no longer matches
    and old codes and sessions stop working all the same.
    """

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, primary_key=True, related_name="credential_state"
    )
    nonce = models.CharField(max_length=32)
    credential_digest = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)


class StaffActivation(models.Model):
    """When a member of staff was sent an activation email, and when they set their password."""

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, primary_key=True, related_name="activation"
    )
    first_sent_at = models.DateTimeField()
    last_sent_at = models.DateTimeField()
    sent_count = models.IntegerField(default=0)
    activated_at = models.DateTimeField(null=True, blank=True)


class CredentialEvent(models.Model):
    """One credential action in a school's history: who did what to which pupil or class, and when."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="credential_events")
    actor = models.CharField(max_length=254, blank=True, default="")  # a staff email, or cli:<user>
    action = models.CharField(max_length=20, choices=ACTION_CHOICES)
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    school_class = models.ForeignKey(
        SchoolClass, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject = models.CharField(max_length=200, blank=True, default="")  # username or class name at the time
    detail = models.CharField(max_length=200, blank=True, default="")  # e.g. "28 cards"; never a secret
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["school", "-id"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.subject}"
