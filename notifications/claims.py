"""Claim, commit, then send: the lease every e-mail, SMS and webhook delivery is sent under.

A sender claims a delivery row in one short transaction (``claimed_until`` = now + the lease,
``claimed_by`` = a token of its own) and commits; the network call runs with no transaction
open and no row locked; the outcome is recorded in a second short transaction. Within the
lease no other sender takes the row; a claim whose lease has passed (its worker died between
claim and send, or between send and record) is taken again by the sweep. Delivery is
therefore at least once: a receiver may see a delivery twice, never zero times.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q


def lease() -> timedelta:
    """How long a claim keeps other senders away (``settings.DELIVERY_LEASE_SECONDS``)."""
    return timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)


def new_token() -> str:
    """Who holds a claim: host and process for operators, and a nonce that makes it unique."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def unclaimed(now: datetime) -> Q:
    """Rows nobody holds a live claim on: never claimed, released, or with a lapsed lease."""
    return Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
