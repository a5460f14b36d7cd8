from django.contrib import admin

from kernel.admin import ReadOnlyAdmin
from ledger.models import KeyModification, LedgerEntry, LedgerHead, WorldState


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["seq", "function", "creator_msp", "tx_id", "timestamp"]
    list_filter = ["function", "creator_msp"]
    search_fields = ["tx_id"]


@admin.register(WorldState)
class WorldStateAdmin(ReadOnlyAdmin):
    list_display = ["key", "entry"]
    search_fields = ["key"]


@admin.register(KeyModification)
class KeyModificationAdmin(ReadOnlyAdmin):
    list_display = ["key", "entry", "is_delete"]
    search_fields = ["key"]


@admin.register(LedgerHead)
class LedgerHeadAdmin(ReadOnlyAdmin):
    list_display = ["size", "last_hash", "updated_at"]
