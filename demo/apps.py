from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data of ``make run``: every flow and a login for every role, made through the
    same services people use. It sits on top of every app, so it may use any of them."""

    name = "demo"
    verbose_name = "Demo data"
