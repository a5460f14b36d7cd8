"""A vehicle registered to the world's owner, and its sale to the other owner taken through
to the LTO's approval (registry.sales, as the browser and the API drive it)."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from registry import sales
from registry import services as registry_services
from registry.document_services import document_upload
from registry.models import RegistrationApplication, Vehicle
from tests.conftest import (
    World,
    claim_and_approve,
    filed_application,
    registered_application,
    sent_for_clearance,
)
from tests.paying import pay_in_full

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def registered(world: World, owner=None) -> Vehicle:  # type: ignore[no-untyped-def]
    """A vehicle of ``owner``'s (the world's owner by default), registered with its CR."""
    return registered_application(world, filed_application(world, owner=owner)).vehicle


def cleared_transfer(world: World, vehicle: Vehicle) -> RegistrationApplication:
    """The world's owner sells ``vehicle`` to the other owner; the transfer is cleared."""
    sale = sales.sale_start(
        seller=world.owner, vehicle_id=vehicle.pk, buyer_email=world.other_owner.email
    )
    application = sales.sale_accept(
        buyer=world.other_owner, token=sales.sale_token(sale)
    ).application
    assert application is not None
    for uploader, doc_type in (
        (world.owner, "deed_of_sale"),
        (world.other_owner, "government_id"),
        (world.other_owner, "insurance_coc"),
    ):
        document_upload(
            application_id=application.pk,
            uploader=uploader,
            doc_type=doc_type,
            upload=SimpleUploadedFile(f"{doc_type}.pdf", PDF),
        )
    registry_services.application_submit(application_id=application.pk, actor=world.other_owner)
    application, requests = sent_for_clearance(world, application)
    for request in requests.values():
        claim_and_approve(world, request)
    application.refresh_from_db()
    return application


def transferred(world: World, vehicle: Vehicle | None = None) -> RegistrationApplication:
    """The transfer of ``vehicle`` (a newly registered one by default), approved by the LTO."""
    application = cleared_transfer(world, vehicle or registered(world))
    pay_in_full(application)
    registry_services.registration_approve(application_id=application.pk, actor=world.lto_admin)
    application.refresh_from_db()
    return application
