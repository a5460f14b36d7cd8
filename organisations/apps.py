from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "organisations"
    verbose_name = "Organisations"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save

        from organisations import key_cache
        from organisations.models import ApiKey, Organisation

        # A cached API key must never outlive a change to it, its organisation or its creator.
        for signal in (post_save, post_delete):
            signal.connect(key_cache.key_changed, sender=ApiKey, dispatch_uid="key-cache-key")
            signal.connect(
                key_cache.organisation_changed, sender=Organisation, dispatch_uid="key-cache-org"
            )
            signal.connect(
                key_cache.user_changed, sender=get_user_model(), dispatch_uid="key-cache-user"
            )
