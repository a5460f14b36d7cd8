from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Registry"

    def ready(self) -> None:
        from ledger import keepers
        from registry.ledger_rows import DocumentRows, RegistrationRows

        keepers.register(RegistrationRows())
        keepers.register(DocumentRows())
