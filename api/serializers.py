"""Shapes every API shares."""

from __future__ import annotations

from rest_framework import serializers


class LedgerReceiptSerializer(serializers.Serializer):
    """The ledger receipt of a recorded change: where and when the ledger has it."""

    backend = serializers.CharField(source="ledger_backend")
    tx_id = serializers.CharField(source="ledger_tx_id")
    block = serializers.IntegerField(source="ledger_block", allow_null=True)
    timestamp = serializers.DateTimeField(source="ledger_timestamp")
