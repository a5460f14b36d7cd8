from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Fees and payments"

    def ready(self) -> None:
        # The payment tasks live in payment_tasks (tasks.py is the fees branch's); import them
        # so that a worker registers them; and the deploy checks.
        from payments import payment_checks, payment_tasks  # noqa: F401
