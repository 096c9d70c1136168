"""A school's connection to a data provider: its settings, its secret (encrypted) and its last status."""

from __future__ import annotations

from django.db import models

from missync.accounts.models import School

PROVIDER_CHOICES = [
    ("wonde", "Wonde"),
    ("xporter", "Xporter on Demand"),
    ("oneroster-api", "OneRoster API"),
]
STATUS_CHOICES = [
    ("pending", "Waiting for the school's approval"),
    ("approved", "Approved"),
    ("missing_permissions", "Approved, with permissions missing"),
    ("failed", "Failed"),
]


class Connection(models.Model):
    """One school's registration with one provider (at most one per provider).

    `options` holds the settings that are not secret (school id, establishment, app or client id, base
    URL); `secret` holds the token or secret encrypted with the credential key, which is kept outside the
    database, so a database dump holds no usable secret.
    """

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="connections")
    provider = models.CharField(max_length=20, choices=PROVIDER_CHOICES)
    options = models.JSONField(default=dict, blank=True)
    secret = models.TextField()
    status = models.CharField(max_length=30, choices=STATUS_CHOICES, default="pending")
    message = models.TextField(blank=True, default="")
    missing_permissions = models.JSONField(default=list, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    last_read_at = models.DateTimeField(null=True, blank=True)
    last_requests = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school", "provider"], name="connection_one_per_provider"),
        ]

    def __str__(self) -> str:
        return f"{self.school.slug}: {self.get_provider_display()}"
