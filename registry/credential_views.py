"""The CR as a verifiable credential on the web: the owner's (and the LTO's) download, and the
public documents a verifier needs without an account: the status lists, the JWK set and the
issuer metadata."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from chaincode.rules import ApplicationStatus
from kernel.auth import AuthenticatedHttpRequest
from organisations.access import Action, Caller
from registry import access, credentials, status_list
from registry.credential_keys import published_jwks
from registry.models import Certificate, RegistrationApplication
from registry.selectors import application_get_for_user

# Statuses are computed on every request (a CR superseded a second ago is already listed), so
# caches must ask again each time; ETags would not save the signing.
_REVALIDATE = "no-cache"


def certificate_for_caller(caller: Caller, number: str) -> Certificate:
    """A CR whose credential the caller may have: its owner's, or any for LTO staff; 404 for
    anyone else, so a number says nothing about whether it exists."""
    certificate = (
        Certificate.objects.select_related("vehicle", "owner").filter(number=number).first()
    )
    if certificate is None or not caller.permits(Action.DOWNLOAD_CERTIFICATE):
        raise Http404(_("No such certificate."))
    is_owner = caller.api_key is None and caller.user_id == certificate.owner_id
    if not (is_owner or caller.is_lto_staff):
        raise Http404(_("No such certificate."))
    return certificate


def certificate_of_application(application: RegistrationApplication) -> Certificate | None:
    """The CR an approved application stands for, as the PDF shows it: the one it issued, or
    for a renewal the vehicle's valid CR."""
    if application.status != ApplicationStatus.APPROVED:
        return None
    issued = application.certificates.select_related("vehicle", "owner").first()
    return issued or (
        application.vehicle.certificates.select_related("vehicle", "owner")
        .filter(status=Certificate.Status.VALID)
        .first()
    )


def credential_response(certificate: Certificate) -> HttpResponse:
    token = credentials.secured(credentials.certificate_credential(certificate))
    response = HttpResponse(token, content_type=credentials.MEDIA_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{certificate.number}.jwt"'
    return response


@login_required
def credential_download(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    application = application_get_for_user(user=request.user, pk=pk)
    # As for the PDF: the owner's and the LTO's, once the registration is approved.
    if Action.DOWNLOAD_CERTIFICATE not in access.permitted_actions(Caller.of(request), application):
        raise Http404(_("No certificate for you here."))
    certificate = certificate_of_application(application)
    if certificate is None:
        raise Http404(_("The certificate exists once the registration is approved."))
    return credential_response(certificate)


@require_safe
def status_list_credential(request: HttpRequest, list_number: int) -> HttpResponse:
    """Public: a revocation status list, signed, built from the certificates as they are now."""
    if not status_list.is_listed(list_number):
        raise Http404(_("No such status list."))
    token = credentials.secured(credentials.status_list_credential(list_number))
    response = HttpResponse(token, content_type=credentials.MEDIA_TYPE)
    response["Cache-Control"] = _REVALIDATE
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def jwks(request: HttpRequest) -> JsonResponse:
    """Public: the LTO's credential keys, the current one and those rotated out."""
    response = JsonResponse(published_jwks(), content_type="application/jwk-set+json")
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def issuer_metadata(request: HttpRequest) -> JsonResponse:
    """Public: where the issuer's keys are, as VC-JOSE-COSE's well-known URI describes."""
    response = JsonResponse(credentials.issuer_metadata())
    response["Access-Control-Allow-Origin"] = "*"
    return response
