"""Organisations (the LTO and those that clear vehicles), their people and their API keys."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from chaincode.rules import OrgKind
from kernel.db import TimestampedModel

_KIND_LABELS = {
    OrgKind.LTO: "LTO",
    OrgKind.HPG: "HPG",
    OrgKind.INSURANCE: "Insurance",
    OrgKind.EMISSION: "Emission",
    OrgKind.DEALER: "Dealer",
    OrgKind.LENDER: "Lender",
}
# Built with Django's functional enum API (which django-stubs does not model) from chaincode's
# kinds, so the two cannot drift apart.
Kind: type[models.TextChoices] = cast(Any, models.TextChoices)(
    "Kind", [(kind.name, (kind.value, _KIND_LABELS[kind])) for kind in OrgKind]
)


class Organisation(TimestampedModel):
    """The LTO, an external organisation that clears vehicles (HPG, insurer, emission), or an
    accredited dealer or importer that records vehicles' origins."""

    kind = models.CharField(max_length=12, choices=Kind.choices, db_index=True)
    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=120)
    msp_id = models.CharField(
        "Fabric MSP id", max_length=64, help_text="The Fabric MSP this organisation signs as."
    )
    is_active = models.BooleanField(default=True)
    # The office the public is sent to (an owner whose vehicle this organisation holds is told
    # to contact it): shown to owners, so never a person's own address or number.
    contact_email = models.EmailField("public contact e-mail", blank=True)
    contact_phone = models.CharField("public contact phone", max_length=40, blank=True)
    contact_address = models.CharField("public office address", max_length=300, blank=True)

    class Meta:
        # The table keeps the name it had when organisations lived in clearance/.
        db_table = "clearance_organisation"
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def public_contact(self) -> str:
        """How the public reaches the office: its name and whichever contacts it gave."""
        details = [d for d in (self.contact_email, self.contact_phone, self.contact_address) if d]
        return f"{self.name} ({', '.join(details)})" if details else self.name


class Membership(TimestampedModel):
    class Role(models.TextChoices):
        OFFICER = "officer", _("Officer")
        ADMIN = "admin", _("Organisation admin")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.OFFICER)
    is_active = models.BooleanField(default=True)

    class Meta:
        db_table = "clearance_membership"
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.role})"

    @property
    def is_invited(self) -> bool:
        """Invited and not yet accepted: the officer has not set a password from the link
        they were e-mailed (membership_invite gives them an unusable one)."""
        return self.is_active and not self.user.has_usable_password()


class ApiKey(TimestampedModel):
    """An integrator's key: it acts for one organisation, as the person who created it.

    Only the SHA-256 of the secret is kept; the full key is shown once, at creation.
    """

    class Scope(models.TextChoices):
        READ = "read", _("Read clearance requests and status")
        DECIDE = "decide", _("Claim and decide clearance requests")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=80, help_text="What the key is for, e.g. 'claims system'.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_sha256 = models.CharField("SHA-256 of the secret", max_length=64, editable=False)
    scopes = models.JSONField(default=list, help_text="Any of: read, decide.")
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_keys"
    )

    class Meta:
        db_table = "clearance_apikey"
        ordering = ["organisation", "-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} (tln_{self.prefix}_…)"


class Office(TimestampedModel):
    """An LTO office where applications are filed (issue 16): receipts are numbered per office,
    plate series held per region. Data, edited in the admin."""

    code = models.CharField(max_length=20, unique=True, help_text="The LTO's office code.")
    name = models.CharField(max_length=120)
    region = models.CharField(max_length=40, help_text="e.g. NCR, Region VII.")
    is_demo = models.BooleanField(
        default=False, help_text="Seeded for the demo: not a verified LTO office record."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"
