from django import template

from payments.fees import pesos as _pesos
from payments.models import Assessment

register = template.Library()


@register.filter
def pesos(centavos: int) -> str:
    """₱1,600.00 from 160000 centavos."""
    return _pesos(int(centavos))


@register.simple_tag(takes_context=True)
def pay_button(context: template.Context, application_id: int, assessment: Assessment) -> str:
    """The applicant's Pay button for this assessment's total (signed; see payment_views)."""
    from payments.payment_views import pay_button as render_button

    return render_button(
        context["request"], application_id, assessment.pk, assessment.total_centavos
    )
