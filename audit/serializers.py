"""Serializers of the ledger operations: receipts, a vehicle's history, inclusion proofs."""

from __future__ import annotations

from rest_framework import serializers


class ReceiptSubjectSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ReceiptSubject"

    # A plain string in the schema: a "type" enum already names the application types.
    type = serializers.CharField(
        help_text="`clearance` (a clearance status change), `registration` (RegisterVehicle) "
        "or `document` (RecordDocument: a document's digest anchored; `to_status` is "
        "`anchored`)."
    )
    application = serializers.CharField(help_text="The application's reference.")
    vin = serializers.CharField()
    clearance = serializers.UUIDField(
        allow_null=True, help_text="The clearance request's public id (clearance changes)."
    )
    kind = serializers.CharField(allow_null=True, help_text="The clearance kind, e.g. HPG.")
    organisation = serializers.CharField(
        allow_null=True, help_text="The code of the organisation that made the change."
    )
    document = serializers.UUIDField(
        allow_null=True, help_text="The document's public id (document anchors)."
    )
    document_type = serializers.CharField(allow_null=True, help_text="Sales invoice, CSR, …")
    sha256 = serializers.CharField(
        allow_null=True, help_text="The anchored SHA-256 of the document's content."
    )


class LedgeredChangeSerializer(serializers.Serializer):
    """One recorded change with its receipt: identifiers and statuses only, never names."""

    class Meta:
        ref_name = "LedgeredChange"

    tx_id = serializers.CharField(help_text="The ledger transaction id.")
    change_id = serializers.UUIDField(help_text="Our id of the change, idempotent on the ledger.")
    backend = serializers.CharField(help_text="embedded or fabric.")
    block = serializers.IntegerField(
        allow_null=True, help_text="The block (fabric) or log position (embedded)."
    )
    timestamp = serializers.DateTimeField()
    from_status = serializers.CharField(allow_blank=True)
    to_status = serializers.CharField()
    subject = ReceiptSubjectSerializer()


class ReceiptSerializer(LedgeredChangeSerializer):
    class Meta:
        ref_name = "Receipt"

    verified = serializers.BooleanField(
        help_text="Whether the ledger itself holds this transaction and recorded this change."
    )
    detail = serializers.CharField(help_text="What the check found, for people.")
    inclusion = serializers.ChoiceField(
        choices=["included", "awaiting", ""],
        help_text="On the embedded ledger: 'included' once the entry is in a signed checkpoint "
        "of the log, 'awaiting' while it is recorded and waiting for the sequencer (its "
        "receipt promises inclusion within the maximum merge delay); blank otherwise.",
    )
    checkpoint_size = serializers.IntegerField(
        allow_null=True, help_text="The size of the signed checkpoint the entry was found in."
    )
    leaf_hash = serializers.CharField(
        allow_blank=True, help_text="Hex leaf hash of the entry in the log (embedded ledger)."
    )
    promise = serializers.CharField(
        allow_blank=True,
        help_text="The log's signed promise of inclusion (a c2sp.org/signed-note: 'talaan "
        "inclusion promise', origin, base64 leaf hash, time, deadline); blank for entries "
        "written before the log was tiled and on Fabric.",
    )


class LedgerRecordVersionSerializer(serializers.Serializer):
    class Meta:
        ref_name = "LedgerRecordVersion"

    tx_id = serializers.CharField()
    is_delete = serializers.BooleanField()
    value = serializers.DictField(
        child=serializers.JSONField(),
        allow_null=True,
        help_text="The vehicle's ledger record as written: VIN, record digest, registering "
        "organisation's MSP, change and transaction ids, time.",
    )


class VehicleHistorySerializer(serializers.Serializer):
    class Meta:
        ref_name = "VehicleLedgerHistory"

    vin = serializers.CharField()
    changes = LedgeredChangeSerializer(
        many=True, help_text="Every recorded change you may see, oldest first."
    )
    ledger_record = LedgerRecordVersionSerializer(
        many=True,
        help_text="Every version of the vehicle's own ledger record (GetVehicleHistory); empty "
        "until the vehicle is registered.",
    )


class InclusionProofSerializer(serializers.Serializer):
    class Meta:
        ref_name = "InclusionProof"

    tx_id = serializers.CharField()
    seq = serializers.IntegerField(help_text="The entry's number.")
    index = serializers.IntegerField(help_text="The leaf's index in the tree, from 0.")
    tree_size = serializers.IntegerField(help_text="The size of the tree the proof is for.")
    leaf_hash = serializers.CharField(help_text="Hex SHA-256(0x00 || entry content).")
    path = serializers.ListField(
        child=serializers.CharField(), help_text="Hex sibling hashes, leaf to root (RFC 6962)."
    )
    tree_root = serializers.CharField(help_text="Hex Merkle root of the first tree_size leaves.")
    tree_signature = serializers.CharField(help_text="Hex Ed25519 signature over `signed_message`.")
    signed_message = serializers.CharField(
        help_text="What the signature covers: the checkpoint's text (c2sp.org/tlog-checkpoint), "
        "or for a tree head of the log before it was tiled, "
        "'talaan-tree-head/v1 <channel> <size> <root>'."
    )
    checkpoint = serializers.CharField(
        allow_blank=True,
        help_text="The signed checkpoint (c2sp.org/signed-note), as GET /ledger/checkpoint "
        "serves it; blank for a tree head of the log before it was tiled.",
    )
    verifier_key = serializers.CharField(
        help_text="The log's verifier key (<name>+<key id>+<key>), for golang.org/x/mod/sumdb/note."
    )
    public_key = serializers.CharField(help_text="Hex raw Ed25519 public key of the ledger.")
