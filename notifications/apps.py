from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from kernel import i18n
        from notifications import language, webhooks  # noqa: F401  (receiver; own event)

        # Messages written in kernel/services read the choice saved by the language switch.
        i18n.set_language_reader(language.saved_language_of)
