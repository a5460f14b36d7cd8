"""Talaan: vehicle registration clearance with a shared ledger."""

from .celery import app as celery_app

__all__ = ["celery_app"]
