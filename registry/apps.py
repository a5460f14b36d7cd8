from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Registry"

    def ready(self) -> None:
        from ledger import keepers
        from notifications.addresses import register_mobile_numbers
        from registry import checks, events  # noqa: F401  (register their checks and events)
        from registry.ledger_rows import (
            DeregistrationRows,
            DocumentRows,
            HoldLiftRows,
            HoldRows,
            MortgageReleaseRows,
            MortgageRows,
            OriginRows,
            RegistrationRows,
            TransferRows,
        )
        from registry.selectors import owner_mobile_numbers

        keepers.register(RegistrationRows())
        keepers.register(DocumentRows())
        keepers.register(TransferRows())
        keepers.register(OriginRows())
        keepers.register(DeregistrationRows())
        keepers.register(HoldRows())
        keepers.register(HoldLiftRows())
        keepers.register(MortgageRows())
        keepers.register(MortgageReleaseRows())
        register_mobile_numbers(owner_mobile_numbers)
