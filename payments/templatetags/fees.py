from django import template

from payments.fees import pesos as _pesos

register = template.Library()


@register.filter
def pesos(centavos: int) -> str:
    """₱1,600.00 from 160000 centavos."""
    return _pesos(int(centavos))
