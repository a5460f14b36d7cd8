"""Small template helpers used across the app's pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def lookup(mapping: dict, key: Any) -> Any:
    """``{{ checks|lookup:change.ledger_tx_id }}``: a dict entry by a variable key."""
    return mapping.get(key) if mapping else None


@register.filter
def status_label(status: str) -> str:
    return (status or "new").replace("_", " ")


@register.filter
def renewal_state(outlook: Any, today: Any) -> str:
    """``{{ outlook|renewal_state:today }}``: "not_yet", "open" or "late"."""
    return str(outlook.state(today))
