"""Load demo organisations, one login per role, and applications in several states.

Everything goes through the workflow services, so the demo ledger is a real one. Running it
again changes nothing and prints the logins once more.
"""

from __future__ import annotations

import datetime
import io
from pathlib import Path
from typing import TYPE_CHECKING, NotRequired, TypedDict

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from chaincode.rules import ApplicationStatus, ClearanceStatus, DeregistrationReason
from clearance import kinds
from clearance import services as clearance_services
from clearance.models import ClearanceRequest
from organisations.models import Membership, Office, Organisation
from payments import assessment, payment_services
from payments.models import OfficialReceipt
from payments.payment_services import refund_record
from payments.payment_tasks import deliver_sandbox_callback
from payments.receipt_services import receipt_void
from registry import mortgages, origins, sales, schedule
from registry import services as registry_services
from registry.deregistration import vehicle_deregister
from registry.document_services import document_checklist, document_upload, missing_documents
from registry.holds import hold_place
from registry.models import (
    Document,
    OwnerProfile,
    RegistrationApplication,
    RegistrationPeriod,
    Sale,
    Vehicle,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

DEMO_PASSWORD = "talaan-demo-2026"


def demo_invoice(vehicle: Vehicle, title: str = "SALES INVOICE") -> bytes:
    """A one-page PDF standing in for a dealer's sales invoice (or another paper)."""
    from reportlab.lib.pagesizes import A5
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A5)
    canvas.setTitle(f"{title.capitalize()} (demo)")
    lines = [
        f"{title} (demo data)",
        f"{vehicle.year} {vehicle.make} {vehicle.model}",
        f"VIN {vehicle.vin}",
        f"Engine {vehicle.engine_number}",
    ]
    for row, text in enumerate(lines):
        canvas.drawString(40, 540 - 24 * row, text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


ORGANISATIONS = [
    ("LTO", "lto", "Land Transportation Office", "LTOMSP"),
    ("HPG", "pnp-hpg", "PNP Highway Patrol Group", "HPGMSP"),
    ("INSURANCE", "bayanihan-mutual", "Bayanihan Mutual Insurance", "InsuranceMSP"),
    ("EMISSION", "maharlika-etc", "Maharlika Emission Testing Center", "EmissionMSP"),
    # An accredited dealer: it signs as DealerMSP, named by its code (the talaan.dealer
    # attribute of its certificate).
    ("DEALER", "manila-bay-motors", "Manila Bay Motors", "DealerMSP"),
    # Lenders sign as one MSP, each named by its certificate's talaan.lender attribute (its
    # code); Pautang Finance has no login: it is the other lender, which cannot release
    # Banco Mabuhay's mortgage.
    ("LENDER", "banco-mabuhay", "Banco Mabuhay", "LenderMSP"),
    ("LENDER", "pautang-finance", "Pautang Finance Corp.", "LenderMSP"),
]
# The offices an owner whose vehicle is held is sent to (public contacts, demo values).
CONTACTS = {
    "lto": {
        "contact_email": "holds@lto.example.ph",
        "contact_phone": "+63 2 8922 9061",
        "contact_address": "LTO Central Office, East Avenue, Quezon City",
    },
    "pnp-hpg": {
        "contact_email": "alarms@hpg.example.ph",
        "contact_phone": "+63 2 8723 0401",
        "contact_address": "HPG National Headquarters, Camp Crame, Quezon City",
    },
}

# username, full name, organisation code or None for an owner, role
PEOPLE = [
    ("lto.admin", "Liza Santos", "lto", Membership.Role.ADMIN, "LTO admin"),
    # Two more LTO people, so a flow can need a reviewer and a second, approving officer.
    ("lto.reviewer", "Arnel Bautista", "lto", Membership.Role.OFFICER, "LTO reviewer"),
    ("lto.approver", "Carmela Dizon", "lto", Membership.Role.OFFICER, "LTO approving officer"),
    ("hpg.officer", "Ramon Cruz", "pnp-hpg", Membership.Role.OFFICER, "HPG officer"),
    ("hpg.admin", "Teresa Villanueva", "pnp-hpg", Membership.Role.ADMIN, "HPG org admin"),
    (
        "insurer.officer",
        "Paolo Reyes",
        "bayanihan-mutual",
        Membership.Role.OFFICER,
        "Insurance officer",
    ),
    (
        "emission.officer",
        "Grace Mendoza",
        "maharlika-etc",
        Membership.Role.OFFICER,
        "Emission officer",
    ),
    (
        "dealer.officer",
        "Jojo Manalo",
        "manila-bay-motors",
        Membership.Role.OFFICER,
        "Dealer officer",
    ),
    (
        "lender.officer",
        "Rosa Magsaysay",
        "banco-mabuhay",
        Membership.Role.OFFICER,
        "Lender officer",
    ),
    ("owner.juan", "Juan dela Cruz", None, None, "Vehicle owner"),
    ("owner.maria", "Maria Clara Ibarra", None, None, "Vehicle owner"),
    # The buyer Juan's open sale of his Vios waits for (the link is printed below).
    ("owner.pedro", "Pedro Penduko", None, None, "Vehicle buyer"),
]


# For each demo login: the page to open first and what to click there (printed by make run).
START_HERE = {
    "lto.admin": "Applications: open Maria's Hyundai Accent (Submitted), click Start review",
    "lto.reviewer": "Applications: open Juan's Toyota Hilux to watch its clearances live",
    "lto.approver": "Holds: open the HPG stolen hold on Maria's Ford Ranger",
    "hpg.officer": "Queue: open a pending HPG request, click Claim this request",
    "hpg.admin": "Officers: invite an officer by e-mail, or open Queue",
    "insurer.officer": "Queue: open the request In review (Juan's Hilux) and record a decision",
    "emission.officer": "Queue: click Decided, open the Honda City you returned",
    "dealer.officer": "Origin records: click Record a vehicle",
    "lender.officer": "Mortgages: open the one on Maria's Isuzu mu-X",
    "owner.juan": "My applications: open the Hilux to follow its clearances live",
    "owner.maria": "My applications: open the City (Returned), fix it, Resubmit with corrections",
    "owner.pedro": "Open the buyer's link printed below and accept Juan's sale",
}


def _shown(folder: str) -> str:
    """A folder as the person who typed `make run` finds it: relative to where they are."""
    path = Path(folder).resolve()
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def renewal_due_plate(today: datetime.date) -> tuple[str, schedule.Slot]:
    """A plate whose renewal falls due at the next slot still to come, so its window is open:
    this month when a plate falls due in it, else the next month that has plates due (none
    fall due in November or December)."""
    candidates = []
    for week_digit in (1, 4, 7, 9):
        for month_digit in range(10):
            plate = f"PDR 10{week_digit}{month_digit}"
            candidates.append((schedule.next_slot_after(plate, today), plate))
    slot, plate = min(candidates, key=lambda candidate: candidate[0].first)
    return plate, slot


class VehicleFields(TypedDict):
    """What ``vehicle_register`` is told about a vehicle, besides its owner."""

    vin: str
    engine_number: str
    chassis_number: str
    make: str
    model: str
    year: int
    body_type: str
    colour: str
    fuel: str
    gvw_kg: NotRequired[int]  # demo values, for the MVUC's weight band


VEHICLES: dict[str, VehicleFields] = {
    "juan-1": VehicleFields(
        vin="JTDBR32E720012345",
        engine_number="2NZ1234567",
        chassis_number="NCP920012345",
        make="Toyota",
        model="Vios",
        year=2025,
        body_type="sedan",
        colour="White",
        fuel="gasoline",
    ),
    "juan-2": VehicleFields(
        vin="MHFXR12G5P0123456",
        engine_number="1GD9876543",
        chassis_number="KUN1260123456",
        make="Toyota",
        model="Hilux",
        year=2026,
        body_type="pickup",
        colour="Grey",
        fuel="diesel",
        gvw_kg=2910,
    ),
    "maria-1": VehicleFields(
        vin="MALAM51CAPM123456",
        engine_number="G4LA5123456",
        chassis_number="MALAM51CAPM123456X",
        make="Hyundai",
        model="Accent",
        year=2026,
        body_type="sedan",
        colour="Red",
        fuel="gasoline",
        gvw_kg=1550,
    ),
    "maria-2": VehicleFields(
        vin="MR2KT9F30N1234567",
        engine_number="L15Z1234567",
        chassis_number="GK5N1234567",
        make="Honda",
        model="City",
        year=2022,
        body_type="sedan",
        colour="Blue",
        fuel="gasoline",
    ),
    "juan-3": VehicleFields(
        vin="ML32A3HJ5NH012345",
        engine_number="3A92UAB1234",
        chassis_number="A03A0012345",
        make="Mitsubishi",
        model="Mirage",
        year=2024,
        body_type="hatchback",
        colour="Orange",
        fuel="gasoline",
    ),
    "maria-3": VehicleFields(
        vin="LVVDB11B8PD123456",
        engine_number="SQRE4T15C123",
        chassis_number="CHERY8PD123456",
        make="Chery",
        model="Tiggo 2",
        year=2026,
        body_type="suv",
        colour="Black",
        fuel="gasoline",
    ),
    # Reported stolen after its registration: on HPG's hold.
    "maria-5": VehicleFields(
        vin="MNCUMFF80PW123456",
        engine_number="P5AT0123456",
        chassis_number="MNCUMFF80PW1234",
        make="Ford",
        model="Ranger",
        year=2024,
        body_type="pickup",
        colour="Grey",
        fuel="diesel",
    ),
    "maria-6": VehicleFields(
        vin="MPATFS86JRT012345",
        engine_number="4JJ3012345",
        chassis_number="MPATFS86JRT0123",
        make="Isuzu",
        model="mu-X",
        year=2025,
        body_type="suv",
        colour="Bronze",
        fuel="diesel",
    ),
    "pedro-1": VehicleFields(
        vin="MHKA6GJ6JKJ012345",
        engine_number="1NRVE012345",
        chassis_number="MHKA6GJ6JKJ0123",
        make="Toyota",
        model="Avanza",
        year=2023,
        body_type="van",
        colour="Silver",
        fuel="gasoline",
    ),
    # An old car, registered, then scrapped: the LTO deregisters it.
    "maria-4": VehicleFields(
        vin="JTDBT923771012345",
        engine_number="1NZ7654321",
        chassis_number="NCP930765432",
        make="Toyota",
        model="Corolla Altis",
        year=2007,
        body_type="sedan",
        colour="Silver",
        fuel="gasoline",
    ),
}


# New vehicles Manila Bay Motors recorded: the first sold to Maria and registered from the
# origin record, the second unsold with its invitation to Pedro open.
ORIGINS: dict[str, dict[str, object]] = {
    "sold": {
        "vin": "MHKA4DE30RJ012345",
        "engine_number": "1NRX7654321",
        "chassis_number": "MHKA4DE30RJ012345C",
        "make": "Toyota",
        "model": "Raize",
        "year": 2026,
        "body_type": "suv",
        "colour": "Turquoise",
        "fuel": "gasoline",
        "csr_number": "CSR-2026-004411",
        "invoice_number": "MBM-SI-10021",
    },
    "unsold": {
        "vin": "MHKB3BA1JRK054321",
        "engine_number": "K15BX123987",
        "chassis_number": "MHKB3BA1JRK054321C",
        "make": "Suzuki",
        "model": "Ertiga",
        "year": 2026,
        "body_type": "van",
        "colour": "Silver",
        "fuel": "gasoline",
        "csr_number": "CSR-2026-004412",
        "invoice_number": "MBM-SI-10022",
    },
}


class Command(BaseCommand):
    help = "Load demo data (organisations, a login per role, applications in several states)."

    def handle(self, *args: object, **options: object) -> None:
        users = self._people()
        if not RegistrationApplication.objects.exists():
            self._applications(users)
        self._pending_hpg_request(users)
        self._print_logins()
        self._print_open_sales()

    def _people(self) -> dict[str, User]:
        User = get_user_model()
        organisations = {}
        with transaction.atomic():
            for kind, code, name, msp_id in ORGANISATIONS:
                organisations[code], _ = Organisation.objects.get_or_create(
                    code=code,
                    defaults={
                        "kind": kind,
                        "name": name,
                        "msp_id": msp_id,
                        **CONTACTS.get(code, {}),
                    },
                )
            users = {}
            for username, full_name, org_code, role, _label in PEOPLE:
                first, _, last = full_name.rpartition(" ")
                user, created = User.objects.get_or_create(
                    username=username,
                    defaults={
                        "first_name": first,
                        "last_name": last,
                        "email": f"{username}@example.ph",
                    },
                )
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.save(update_fields=["password"])
                if org_code:
                    assert role is not None  # everyone PEOPLE puts in an organisation has one
                    Membership.objects.get_or_create(
                        user=user, organisation=organisations[org_code], defaults={"role": role}
                    )
                else:
                    OwnerProfile.objects.get_or_create(user=user)
                users[username] = user
            admin, created = User.objects.get_or_create(
                username="admin",
                defaults={"is_staff": True, "is_superuser": True, "email": "admin@example.ph"},
            )
            if created:
                admin.set_password(DEMO_PASSWORD)
                admin.save(update_fields=["password"])
        return users

    def _applications(self, users: dict[str, User]) -> None:
        juan, maria = users["owner.juan"], users["owner.maria"]
        reviewer, approver = users["lto.reviewer"], users["lto.approver"]
        vehicles = {}
        owners = {"juan": juan, "maria": maria, "pedro": users["owner.pedro"]}
        for key, fields in VEHICLES.items():
            owner = owners[key.split("-")[0]]
            vehicles[key] = registry_services.vehicle_register(owner=owner, **fields)

        def filed(
            key: str, owner: User, kind: str = "new", office: str | None = None
        ) -> RegistrationApplication:
            application = registry_services.application_create(
                applicant=owner,
                vehicle_id=vehicles[key].pk,
                type=kind,
                office_id=Office.objects.get(code=office).pk if office else None,
            )
            self._papers(application, owner)
            registry_services.application_submit(application_id=application.pk, actor=owner)
            return application

        def sent(application: RegistrationApplication) -> dict[str, ClearanceRequest]:
            registry_services.application_start_review(
                application_id=application.pk, actor=reviewer
            )
            requests = clearance_services.clearance_send_for_clearance(
                application_id=application.pk, actor=reviewer
            )
            return {request.kind: request for request in requests}

        # Juan's Vios: fully cleared and registered.
        vios = filed("juan-1", juan)
        for request in sent(vios).values():
            self._approve(request)
        self._pay(vios)
        registry_services.registration_approve(application_id=vios.pk, actor=approver)

        # Juan's Hilux: emission approved, insurance under review, HPG pending: the request
        # the README's API walkthrough claims and decides with an HPG key.
        hilux = filed("juan-2", juan)
        requests = sent(hilux)
        self._approve(requests["EMISSION"])
        clearance_services.clearance_claim(
            request_id=requests["INSURANCE"].pk, officer=users["insurer.officer"]
        )
        # Its fees were paid online, then refunded by the LTO and the receipt voided: the
        # void receipt NCR-MKT-DO-0000002 keeps its number, marked void with the reason.
        paid = self._pay(hilux)
        refund_record(
            staff=users["lto.admin"],
            payment_id=paid.payment_id,
            amount_centavos=paid.total_centavos,
            reason="Paid twice (at the counter and online).",
            reference="LTO-REF-DEMO-1",
        )
        receipt_void(
            staff=users["lto.admin"],
            number=paid.number,
            reason="Demo: the payment was refunded (paid twice); this receipt is voided.",
        )

        # Maria's Accent: submitted at the Cebu office, waiting for the LTO; its fees are
        # assessed now and not yet paid (she pays from its page); the others are assessed
        # when their page is opened, and every approved one was paid before its approval.
        assessment.assess(filed("maria-1", maria, office="R07-CEB-DO"))

        # Maria's City: its fees paid through the sandbox checkout (official receipt
        # NCR-MKT-DO-0000003, e-mailed to her); emission returned it for a re-test.
        city = filed("maria-2", maria)
        self._pay(city)
        requests = sent(city)
        officer = users["emission.officer"]
        clearance_services.clearance_claim(request_id=requests["EMISSION"].pk, officer=officer)
        clearance_services.clearance_decide(
            request_id=requests["EMISSION"].pk,
            officer=officer,
            decision=ClearanceStatus.RETURNED,
            remarks="Smoke test sheet is unsigned; please have the test repeated.",
        )

        # Juan's Mirage: registered, sold to Maria, the transfer approved: Maria owns it now and
        # Juan's certificate is superseded by hers.
        mirage = filed("juan-3", juan)
        for request in sent(mirage).values():
            self._approve(request)
        self._pay(mirage)
        registry_services.registration_approve(application_id=mirage.pk, actor=approver)
        self._sell(vehicles["juan-3"], seller=juan, buyer=maria, complete=True, users=users)

        # Maria's old Corolla: registered, then scrapped and deregistered by the LTO.
        corolla = filed("maria-4", maria)
        for request in sent(corolla).values():
            self._approve(request)
        self._pay(corolla)
        registry_services.registration_approve(application_id=corolla.pk, actor=approver)
        vehicle_deregister(
            vehicle_id=vehicles["maria-4"].pk,
            actor=users["lto.admin"],
            reason=DeregistrationReason.SCRAPPED,
            evidence=SimpleUploadedFile(
                "certificate-of-scrapping.pdf",
                demo_invoice(vehicles["maria-4"], "CERTIFICATE OF SCRAPPING"),
                "application/pdf",
            ),
            note="Certificate of scrapping from the accredited yard, presented by the owner.",
        )

        # Juan's Vios: on sale to Pedro, who has not answered yet.
        self._sell(vehicles["juan-1"], seller=juan, buyer=users["owner.pedro"], users=users)

        # Pedro's Avanza: registered three years ago, its renewal open and due at its slot.
        avanza = filed("pedro-1", users["owner.pedro"])
        for request in sent(avanza).values():
            self._approve(request)
        plate, slot = renewal_due_plate(timezone.localdate())
        self._pay(avanza)
        registry_services.registration_approve(
            application_id=avanza.pk, actor=approver, plate_number=plate
        )
        self._backdate_first_registration(avanza, ends=slot.last)

        self._dealer_origins(users)

        # Maria's mu-X: registered and financed by Banco Mabuhay, the mortgage annotated with
        # her consent: encumbered (its CR says to whom; a transfer needs the lender's consent).
        mux = filed("maria-6", maria)
        for request in sent(mux).values():
            self._approve(request)
        self._pay(mux)
        registry_services.registration_approve(application_id=mux.pk, actor=approver)
        mortgage = mortgages.mortgage_propose(
            actor=users["lender.officer"],
            vehicle=VEHICLES["maria-6"]["vin"],
            owner_email=maria.email,
        )
        mortgages.mortgage_answer(owner=maria, reference=mortgage.reference, accept=True)

        # Maria's Tiggo: still a draft.
        registry_services.application_create(
            applicant=maria, vehicle_id=vehicles["maria-3"].pk, type="new"
        )

        # Maria's Ranger: registered, then reported stolen: HPG's hold blocks its renewal,
        # sale and deregistration until HPG lifts it; verify says "on hold".
        ranger = filed("maria-5", maria)
        for request in sent(ranger).values():
            self._approve(request)
        self._pay(ranger)
        registry_services.registration_approve(application_id=ranger.pk, actor=approver)
        hold_place(
            officer=users["hpg.officer"],
            vin=vehicles["maria-5"].vin,
            reason="stolen",
            evidence=SimpleUploadedFile(
                "hpg-alarm-report.pdf",
                demo_invoice(vehicles["maria-5"], "HPG ALARM REPORT"),
                "application/pdf",
            ),
            note="Reported stolen in Quezon City; alarm sheet from the HPG desk (demo).",
        )

    def _backdate_first_registration(
        self, application: RegistrationApplication, *, ends: datetime.date
    ) -> None:
        """Demo history: the registration was granted three years before ``ends``, so that
        the renewal window is open today (the ledger record does not name the dates)."""
        starts = ends - relativedelta(years=3) + datetime.timedelta(days=1)
        RegistrationApplication.objects.filter(pk=application.pk).update(
            period_start=starts, period_end=ends
        )
        RegistrationPeriod.objects.filter(application=application).update(
            valid_from=starts, valid_to=ends
        )

    def _dealer_origins(self, users: dict[str, User]) -> None:
        """Manila Bay Motors records two new vehicles: Maria buys the Raize, whose first
        registration is filed from its origin record and approved; the Ertiga's invitation to
        Pedro is open."""
        officer, maria = users["dealer.officer"], users["owner.maria"]
        dealer = Organisation.objects.get(code="manila-bay-motors")
        recorded = {
            key: origins.origin_record(
                officer=officer,
                dealer_id=dealer.pk,
                invoice_date=timezone.localdate(),
                **fields,  # type: ignore[arg-type]
            )
            for key, fields in ORIGINS.items()
        }
        sale = sales.origin_sale_start(
            officer=officer, origin_id=recorded["sold"].pk, buyer_email=maria.email
        )
        application = sales.sale_accept(buyer=maria, token=sales.sale_token(sale)).application
        assert application is not None  # an accepted dealer's sale files the registration
        self._papers(application, maria)  # her certificate of cover; the rest is the origin's
        registry_services.application_submit(application_id=application.pk, actor=maria)
        reviewer, approver = users["lto.reviewer"], users["lto.approver"]
        registry_services.application_start_review(application_id=application.pk, actor=reviewer)
        for request in clearance_services.clearance_send_for_clearance(
            application_id=application.pk, actor=reviewer
        ):
            self._approve(request)
        self._pay(application)
        registry_services.registration_approve(application_id=application.pk, actor=approver)
        sales.origin_sale_start(
            officer=officer, origin_id=recorded["unsold"].pk, buyer_email=users["owner.pedro"].email
        )

    def _pending_hpg_request(self, users: dict[str, User]) -> None:
        """Keep one HPG request pending for the API walkthrough, even after it was decided.

        The first load leaves the Hilux's pending; once the walkthrough has decided that one,
        loading the demo again sends a new vehicle's application for clearance.
        """
        pending = ClearanceRequest.objects.filter(
            kind="HPG",
            status=ClearanceStatus.PENDING,
            application__status=ApplicationStatus.AWAITING_CLEARANCES,
        )
        if pending.exists():
            return
        juan, lto = users["owner.juan"], users["lto.admin"]
        number = Vehicle.objects.filter(make="Mitsubishi", owner=juan).count() + 1
        vehicle = registry_services.vehicle_register(
            owner=juan,
            vin=f"MMBJNKL30R{number:07d}",
            engine_number=f"4N15U{number:06d}",
            chassis_number=f"KL3TR{number:06d}",
            make="Mitsubishi",
            model="Montero Sport",
            year=2026,
            body_type="suv",
            colour="Silver",
            fuel="diesel",
        )
        application = registry_services.application_create(
            applicant=juan, vehicle_id=vehicle.pk, type="new"
        )
        self._papers(application, juan)
        registry_services.application_submit(application_id=application.pk, actor=juan)
        registry_services.application_start_review(application_id=application.pk, actor=lto)
        clearance_services.clearance_send_for_clearance(application_id=application.pk, actor=lto)

    def _papers(self, application: RegistrationApplication, owner: User) -> None:
        """Upload a demo PDF for each document the application's type needs (the data in
        DocumentRequirement: a new registration's sales invoice, CSR and certificate of
        cover), each anchored on the ledger."""
        vehicle = application.vehicle
        for item in missing_documents(document_checklist(application)):
            document_upload(
                application_id=application.pk,
                uploader=owner,
                doc_type=item.doc_type,
                upload=SimpleUploadedFile(
                    f"{item.doc_type}-{vehicle.pk}.pdf",
                    demo_invoice(vehicle, item.label.upper()),
                    "application/pdf",
                ),
            )

    def _sell(
        self,
        vehicle: Vehicle,
        *,
        seller: User,
        buyer: User,
        users: dict[str, User],
        complete: bool = False,
    ) -> None:
        """Open a sale of ``vehicle`` to ``buyer``; with ``complete``, carry the transfer through
        to the LTO's approval (the buyer accepts, both file their papers, clearances pass)."""
        sale = sales.sale_start(seller=seller, vehicle_id=vehicle.pk, buyer_email=buyer.email)
        if not complete:
            return
        sale = sales.sale_accept(buyer=buyer, token=sales.sale_token(sale))
        assert sale.application is not None  # an accepted sale has filed its transfer
        application = sale.application
        papers = [
            (seller, Document.Type.DEED_OF_SALE, "DEED OF SALE"),
            (buyer, Document.Type.GOVERNMENT_ID, "GOVERNMENT ID"),
            (buyer, Document.Type.INSURANCE_COC, "CERTIFICATE OF COVER"),
        ]
        for uploader, doc_type, title in papers:
            document_upload(
                application_id=application.pk,
                uploader=uploader,
                doc_type=doc_type,
                upload=SimpleUploadedFile(
                    f"{doc_type}-{vehicle.pk}.pdf", demo_invoice(vehicle, title), "application/pdf"
                ),
            )
        sales.notice_of_sale_file(
            seller=seller, sale_id=sale.pk, handed_over_on=timezone.localdate()
        )
        registry_services.application_submit(application_id=application.pk, actor=buyer)
        reviewer, approver = users["lto.reviewer"], users["lto.approver"]
        registry_services.application_start_review(application_id=application.pk, actor=reviewer)
        for request in clearance_services.clearance_send_for_clearance(
            application_id=application.pk, actor=reviewer
        ):
            self._approve(request)
        self._pay(application)
        registry_services.registration_approve(application_id=application.pk, actor=approver)

    def _print_open_sales(self) -> None:
        for sale in Sale.objects.filter(status=Sale.Status.AWAITING_BUYER).select_related(
            "vehicle", "origin"
        ):
            self.stdout.write(
                f"Open sale of {sale.subject} to {sale.buyer_email}; the buyer's link "
                f"(sign in as that buyer):\n  {sales.sale_link(sale)}"
            )

    def _pay(self, application: RegistrationApplication) -> OfficialReceipt:
        """The applicant pays the fees in the sandbox, through the services its page's Pay
        button and the sandbox checkout's Pay use (the LTO approves only a paid one); the
        signed paid callback issues the official receipt."""
        if settings.PAYMENT_GATEWAY != "sandbox":
            raise CommandError(
                "The demo pays its registrations in the sandbox: run it with "
                "PAYMENT_GATEWAY=sandbox (make run's default)."
            )
        payment, _ = payment_services.application_payment_start(
            payer=application.applicant, application_id=application.pk
        )
        deliver_sandbox_callback(payment.provider_checkout_id)
        return OfficialReceipt.objects.get(payment=payment)

    def _approve(self, request: ClearanceRequest) -> None:
        """The organisation's first officer approves with the kind's example findings."""
        officer = (
            Membership.objects.filter(
                organisation=request.organisation, role=Membership.Role.OFFICER, is_active=True
            )
            .select_related("user")
            .order_by("pk")
            .first()
        )
        example = kinds.kind(request.kind).example
        assert officer is not None and example is not None  # every demo kind has both
        clearance_services.clearance_claim(request_id=request.pk, officer=officer.user)
        clearance_services.clearance_decide(
            request_id=request.pk,
            officer=officer.user,
            decision=ClearanceStatus.APPROVED,
            remarks="All checks passed.",
            findings=example(request),
        )

    def _print_logins(self) -> None:
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}), and where to start:")
        for username, _name, _org, _role, label in PEOPLE:
            self.stdout.write(f"  {label:<22} {username:<17} {START_HERE.get(username, '')}")
        self.stdout.write(f"  {'Django admin':<22} {'admin':<17} /admin/")
        self.stdout.write("")
        if settings.EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend":
            self.stdout.write(
                f"E-mail is not sent: each message (sign-up and e-mail change confirmations, "
                f"notifications) is a file in {_shown(settings.EMAIL_FILE_PATH)}/, the newest last."
            )
        if settings.SMS_BACKEND == "notifications.sms.FileBackend":
            self.stdout.write(
                f"SMS is not sent either: one file a day in {_shown(settings.SMS_FILE_PATH)}/."
            )
        self.stdout.write("")
