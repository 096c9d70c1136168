"""The store: schools (tenants), accounts, classes, memberships, remembered choices and sync history.

Every row carries its school, and every query filters by it: one school never sees another's data.
`School.revision` increases with every write to a school, so apply and undo can refuse when the store
changed since a plan was made.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from missync.core.snapshot import Choices
from missync.core.usernames import DEFAULT_USERNAME_FORMAT

ROLE_CHOICES = [("pupil", "Pupil"), ("staff", "Staff")]
STATUS_CHOICES = [("active", "Active"), ("archived", "Archived")]
CLASS_KIND_CHOICES = [("registration", "Class"), ("subject", "Subject group")]


class School(models.Model):
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    revision = models.BigIntegerField(default=0)
    last_roster_size = models.IntegerField(null=True, blank=True)
    # Remembered wizard choices (they apply to new users only).
    pupil_username_format = models.CharField(max_length=40, default=DEFAULT_USERNAME_FORMAT)
    staff_username_format = models.CharField(max_length=40, default=DEFAULT_USERNAME_FORMAT)
    password_formats = models.JSONField(default=dict, blank=True)
    year_map = models.JSONField(default=dict, blank=True)
    subject_groups = models.JSONField(null=True, blank=True)  # None: import every subject group
    hold_threshold = models.FloatField(default=0.10)

    def __str__(self) -> str:
        return self.name

    def choices(self, **overrides: object) -> Choices:
        """The remembered choices as the planner takes them."""
        values: dict[str, object] = {
            "pupil_username_format": self.pupil_username_format,
            "staff_username_format": self.staff_username_format,
            "password_formats": dict(self.password_formats or {}),
            "year_map": dict(self.year_map or {}),
            "subject_groups": None if self.subject_groups is None else frozenset(self.subject_groups),
            "hold_threshold": self.hold_threshold,
        }
        values.update(overrides)
        return Choices(**values)  # type: ignore[arg-type]


class SchoolClass(models.Model):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="classes")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=CLASS_KIND_CHOICES, default="registration")
    mis_id = models.CharField(max_length=200, null=True, blank=True)
    source = models.CharField(max_length=40, blank=True, default="")  # empty: made by hand
    status = models.CharField(max_length=10, choices=STATUS_CHOICES, default="active")

    class Meta:
        indexes = [models.Index(fields=["school", "name"]), models.Index(fields=["school", "mis_id"])]

    def __str__(self) -> str:
        return self.name


class Account(models.Model):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="accounts")
    role = models.CharField(max_length=10, choices=ROLE_CHOICES)
    username = models.CharField(max_length=60)
    forename = models.CharField(max_length=120)
    surname = models.CharField(max_length=120)
    legal_forename = models.CharField(max_length=120, blank=True, default="")
    legal_surname = models.CharField(max_length=120, blank=True, default="")
    status = models.CharField(max_length=10, choices=STATUS_CHOICES, default="active")
    year_group = models.CharField(max_length=20, null=True, blank=True)
    registration_class = models.ForeignKey(
        SchoolClass, null=True, blank=True, on_delete=models.PROTECT, related_name="registered"
    )
    email = models.CharField(max_length=254, null=True, blank=True)
    dob = models.DateField(null=True, blank=True)
    upn = models.CharField(max_length=40, null=True, blank=True)
    former_upn = models.CharField(max_length=40, null=True, blank=True)
    upi = models.CharField(max_length=100, null=True, blank=True)
    mis_id = models.CharField(max_length=200, null=True, blank=True)
    source = models.CharField(max_length=40, blank=True, default="")  # empty: made by hand
    source_id = models.CharField(max_length=200, blank=True, default="")
    # A pupil's reprintable password or picture PIN, encrypted with a key kept outside the database.
    credential = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("username"), "school", name="account_username_unique_per_school"),
        ]
        indexes = [models.Index(fields=["school", "status", "role"])]

    def __str__(self) -> str:
        return self.username


class Membership(models.Model):
    """An account in a class or subject group other than its registration class (teachers' classes too)."""

    school = models.ForeignKey(School, on_delete=models.CASCADE)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    school_class = models.ForeignKey(SchoolClass, on_delete=models.CASCADE, related_name="memberships")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "school_class"], name="membership_unique"),
        ]
        indexes = [models.Index(fields=["school", "account"])]


class SyncRun(models.Model):
    """One applied sync (or an undo of one), with its summary and every change it made."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=10, default="sync")  # sync | undo
    status = models.CharField(max_length=10, default="applied")  # applied | undone
    actor = models.CharField(max_length=200, blank=True, default="")
    source = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    summary = models.JSONField(default=dict)
    report = models.JSONField(default=dict)  # the plan's lines and problems, as reviewed
    hold_confirmed = models.BooleanField(default=False)
    revision_before = models.BigIntegerField()
    revision_after = models.BigIntegerField()
    roster_size_before = models.IntegerField(null=True, blank=True)
    undoes = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-id"]


class Change(models.Model):
    """One account or class a run created or changed: its values before and after, for the report and undo."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="changes")
    entity = models.CharField(max_length=10)  # account | class
    object_id = models.BigIntegerField()
    kind = models.CharField(
        max_length=30
    )  # the plan's line kind: new_pupils, moved, leavers, new, removed...
    before = models.JSONField(null=True)
    after = models.JSONField()

    class Meta:
        indexes = [models.Index(fields=["run", "entity"])]
