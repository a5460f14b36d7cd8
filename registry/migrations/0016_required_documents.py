"""Who uploads each required paper as a choice, a description and an "in force" flag per
requirement, and the papers a new registration and a renewal need.

This is the expand step: ``filed_by`` is filled from ``filed_by_seller``, which the next
migration (0017_required_documents_contract) drops.

Sources for what the LTO asks of an owner (read 2026-12-01):

- New registration, brand-new vehicle: the LTO's checklist for the "Initial Registration of
  Motor Vehicle" (https://lto.gov.ph/vehicle-registration.html) lists the original sales
  invoice, the insurance certificate of cover (third-party liability), the PNP-HPG motor
  vehicle clearance certificate and the certificate of stock reported (CSR); the LTO's page
  for locally made and imported new vehicles (lto.gov.ph, "New – initial or 1st time
  registered in the Philippines") lists the sales invoice, CSR and certificate of cover too.
  The HPG clearance is not an upload here: Talaan asks the HPG for it as a clearance.
- Renewal: the certificate of registration, the certificate of cover, the inspection report
  (MVIR) and the certificate of emission compliance, as quoted from the LTO's site by
  secondary guides (e.g. ifabsuffrage.com, "LTO: How to renew your vehicle registration",
  2020); not confirmed on an LTO page itself. The CR is Talaan's own record, the MVIR is made
  at the LTO's inspection and emission compliance is a clearance, so only the certificate of
  cover is uploaded.

The insurer also confirms the cover as a clearance (the "electronically transmitted" COC);
the owner's copy is what the insurer's officer matches it against.
"""

from __future__ import annotations

from django.db import migrations, models

# (application type, document type, who uploads it, what the owner is told).
REQUIREMENTS = [
    (
        "new",
        "sales_invoice",
        "applicant",
        "The dealer's original sales invoice: buyer's name, address and TIN, date and amount.",
    ),
    (
        "new",
        "csr",
        "applicant",
        "The certificate of stock reported the dealer or importer got for this vehicle.",
    ),
    (
        "new",
        "insurance_coc",
        "applicant",
        "Compulsory third-party liability (CTPL) certificate of cover for this vehicle.",
    ),
    (
        "renewal",
        "insurance_coc",
        "applicant",
        "Compulsory third-party liability (CTPL) certificate of cover for the coming year.",
    ),
]
# What 0009 seeded for a transfer, described.
TRANSFER_DESCRIPTIONS = {
    "deed_of_sale": "Signed by the seller and the buyer; the seller uploads it from the sale's page.",
    "government_id": "The buyer's valid government-issued ID.",
    "insurance_coc": "Compulsory third-party liability (CTPL) certificate of cover in the buyer's name.",
}


def seed(apps, schema_editor):
    """The papers each application type needs; also run by tests' reference data."""
    Requirement = apps.get_model("registry", "DocumentRequirement")
    for application_type, doc_type, filed_by, description in REQUIREMENTS:
        Requirement.objects.get_or_create(
            application_type=application_type,
            doc_type=doc_type,
            defaults={"filed_by": filed_by, "description": description},
        )
    for doc_type, description in TRANSFER_DESCRIPTIONS.items():
        Requirement.objects.filter(
            application_type="transfer", doc_type=doc_type, description=""
        ).update(description=description)


def forwards(apps, schema_editor):
    Requirement = apps.get_model("registry", "DocumentRequirement")
    Requirement.objects.filter(filed_by_seller=True).update(filed_by="seller")
    seed(apps, schema_editor)


def backwards(apps, schema_editor):
    Requirement = apps.get_model("registry", "DocumentRequirement")
    Requirement.objects.filter(filed_by="seller").update(filed_by_seller=True)
    for application_type, doc_type, _, _ in REQUIREMENTS:
        Requirement.objects.filter(application_type=application_type, doc_type=doc_type).delete()


class Migration(migrations.Migration):
    dependencies = [("registry", "0015_vehicle_origins")]

    operations = [
        migrations.AddField(
            model_name="documentrequirement",
            name="filed_by",
            field=models.CharField(
                choices=[("applicant", "The applicant"), ("seller", "The seller (transfers)")],
                default="applicant",
                help_text="Who uploads it: the applicant, or the seller of a transferred vehicle.",
                max_length=20,
                verbose_name="uploaded by",
            ),
        ),
        migrations.AddField(
            model_name="documentrequirement",
            name="description",
            field=models.CharField(
                blank=True, help_text="Shown to the owner beside the item.", max_length=300
            ),
        ),
        migrations.AddField(
            model_name="documentrequirement",
            name="is_active",
            field=models.BooleanField(
                default=True,
                help_text="Untick to retire the requirement without deleting it: it no longer "
                "blocks a filing.",
                verbose_name="in force",
            ),
        ),
        migrations.AlterField(
            model_name="documentrequirement",
            name="doc_type",
            field=models.CharField(
                choices=[
                    ("sales_invoice", "Sales invoice"),
                    ("csr", "Certificate of stock reported"),
                    ("insurance_coc", "Insurance certificate of cover"),
                    ("emission_certificate", "Emission certificate"),
                    ("hpg_clearance", "HPG clearance"),
                    ("deed_of_sale", "Deed of sale"),
                    ("government_id", "Government ID"),
                    ("stencil_photo", "Photo of engine/chassis stencil"),
                    ("other", "Other"),
                ],
                max_length=30,
                verbose_name="document type",
            ),
        ),
        migrations.AlterConstraint(
            model_name="documentrequirement",
            name="document_requirement_unique",
            constraint=models.UniqueConstraint(
                fields=("application_type", "doc_type"),
                name="document_requirement_unique",
                violation_error_message="This application type already needs this document; "
                "edit that requirement (or put it back in force) instead.",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
