"""Two payments of one office at the same moment, on real PostgreSQL, each in its own
connection: the second waits on the office's receipt sequence row and gets the next number.
Without the row lock the second would take the first's number (and fail on the unique
serial), or leave a gap."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from organisations.models import Office
from payments.models import OfficialReceipt, ReceiptSequence
from payments.payment_tasks import deliver_sandbox_callback
from registry.models import RegistrationApplication
from talaan.celery import app as celery_app
from tests.conftest import build_world
from tests.locking import waits_on_a_lock
from tests.payments.receipts import assessed_application, start_payment

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.usefixtures("eager_celery"),
]


@pytest.mark.parametrize("first_of_the_office", [True, False], ids=["new-series", "running"])
def test_two_payments_at_once_get_two_consecutive_numbers(first_of_the_office):
    world = build_world()
    office, _ = Office.objects.get_or_create(
        code="NCR-QC-DO", defaults={"name": "LTO Quezon City District Office", "region": "NCR"}
    )
    if not first_of_the_office:
        ReceiptSequence.objects.create(office=office, next_serial=41)
    applications = [
        assessed_application(world),
        assessed_application(world, owner=world.other_owner),
    ]
    RegistrationApplication.objects.filter(pk__in=[a.pk for a in applications]).update(
        office=office
    )
    mine, theirs = (start_payment(application) for application in applications)
    rival: dict = {}

    def pay_in_another_session() -> None:
        try:
            # Celery's current app is per thread: this one's is Talaan's, as in a web worker.
            celery_app.set_current()
            connection.ensure_connection()
            rival["pid"] = connection.connection.info.backend_pid
            rival["outcome"] = deliver_sandbox_callback(theirs.provider_checkout_id)
        except Exception as exc:  # shown by the assertion below, not lost in the thread
            rival["error"] = repr(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=pay_in_another_session)
    with transaction.atomic():
        # Paid, its number taken, not yet committed: the rival pays meanwhile.
        assert deliver_sandbox_callback(mine.provider_checkout_id) == "applied"
        thread.start()
        deadline = time.monotonic() + 30
        while not waits_on_a_lock(rival.get("pid")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert waits_on_a_lock(rival.get("pid")), rival
    thread.join(timeout=30)

    assert rival == {"pid": rival["pid"], "outcome": "applied"}
    start = 1 if first_of_the_office else 41
    numbers = dict(OfficialReceipt.objects.values_list("payment_id", "number"))
    assert numbers == {
        mine.pk: f"NCR-QC-DO-{start:07d}",
        theirs.pk: f"NCR-QC-DO-{start + 1:07d}",
    }
    assert ReceiptSequence.objects.get(office=office).next_serial == start + 2
