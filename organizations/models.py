"""Organizations own stores; members read their reports, owners also run them.

A store belongs to at most one organization (``Store.organization``); an
unassigned store is seen by staff only. Staff (``is_staff``) see every
organization and may act on any. Reads are scoped by
:func:`organizations.scoping.visible_to`, never by hand.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

#: An organization's slug: what ``ingest --owners`` files, URLs and the API's ``organization`` use.
SLUG_PATTERN = r"[a-z0-9][a-z0-9-]{0,49}"
SLUG_RULE = "1-50 characters from a-z 0-9 -, starting with a letter or a digit"
DEFAULT_SLA_TARGET = Decimal("99.5")
DEFAULT_ORGANIZATION_TIMEZONE = "UTC"


class Organization(models.Model):
    slug = models.CharField(
        max_length=50,
        unique=True,
        validators=[RegexValidator(f"^{SLUG_PATTERN}$", SLUG_RULE)],
    )
    name = models.CharField(max_length=200)
    timezone = models.CharField(
        max_length=64, default=DEFAULT_ORGANIZATION_TIMEZONE, help_text="For calendar periods (months, weeks)."
    )
    sla_target_percent = models.DecimalField(
        max_digits=6,
        decimal_places=3,
        default=DEFAULT_SLA_TARGET,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text="Uptime a store should reach over a period, in percent.",
    )

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "owner (reads, runs reports, manages deliveries)"
        VIEWER = "viewer", "viewer (reads)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_organization")]
        ordering = ["organization__slug", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"
