from payments import payment_admin  # noqa: F401  (the payment models' admin)
