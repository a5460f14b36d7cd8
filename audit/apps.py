from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The audit trail: what the ledger recorded, read back and held against the database.

    The ledger's REST reads (receipts, proofs, a vehicle's history), the LTO's ledger page, and
    the comparisons behind verify_ledger and reconcile_ledger. It sits above the domain apps,
    whose rows it reads; ``ledger/`` below is only the adapter.
    """

    name = "audit"
    verbose_name = "Audit trail"
