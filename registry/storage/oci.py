"""Documents in an OCI Object Storage bucket, through the ``oci`` SDK.

The location recorded for a document is its object key, the name the app gives
(``documents/<uuid>``). Objects are never overwritten: every put carries
``if-none-match: *``. The bucket is private and encrypted server-side, with the customer's
Vault key when ``kms_key_id`` is set.

The SDK's own retries are off: a failed call becomes StorageUnavailable at once, and the user
is told to try again, rather than the request hanging through the SDK's back-off.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any

import oci
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage
from django.utils.deconstruct import deconstructible
from oci._vendor.requests.exceptions import RequestException

from registry.storage.errors import StorageUnavailable

logger = logging.getLogger(__name__)
STORE = "OCI Object Storage"
AUTH_METHODS = ("config_file", "instance_principal")
# (connect, read) seconds for each call.
TIMEOUT = (10, 120)


@deconstructible(path="registry.storage.oci.OciStorage")
class OciStorage(Storage):
    """Puts, gets, heads and deletes documents as objects in one bucket."""

    # The bucket is private: only callers holding OCI credentials can read an object.
    content_is_public = False

    def __init__(
        self,
        *,
        bucket: str,
        namespace: str = "",
        auth: str = "config_file",
        config_file: str = "~/.oci/config",
        profile: str = "DEFAULT",
        region: str = "",
        kms_key_id: str = "",
        endpoint: str = "",
    ) -> None:
        if auth not in AUTH_METHODS:
            raise ImproperlyConfigured(
                f"OCI_AUTH must be one of {', '.join(AUTH_METHODS)}, not {auth!r}."
            )
        self.bucket = bucket
        self.namespace = namespace
        self.auth = auth
        self.config_file = config_file
        self.profile = profile
        self.region = region
        self.kms_key_id = kms_key_id
        self.endpoint = endpoint

    # -- the client (built on first use, so settings load without reading OCI config) ----

    @cached_property
    def client(self) -> oci.object_storage.ObjectStorageClient:
        options: dict[str, Any] = {
            "retry_strategy": oci.retry.NoneRetryStrategy(),
            "timeout": TIMEOUT,
        }
        if self.endpoint:
            options["service_endpoint"] = self.endpoint
        try:
            if self.auth == "instance_principal":
                signer = oci.auth.signers.InstancePrincipalsSecurityTokenSigner()
                config = {"region": self.region or signer.region}
                return oci.object_storage.ObjectStorageClient(config, signer=signer, **options)
            config = oci.config.from_file(self.config_file, self.profile)
        except oci.exceptions.ClientError as exc:
            raise ImproperlyConfigured(f"OCI Object Storage is not configured: {exc}") from exc
        except RequestException as exc:  # the instance metadata service did not answer
            raise StorageUnavailable(STORE, f"instance principal: {exc}") from exc
        if self.region:
            config["region"] = self.region
        return oci.object_storage.ObjectStorageClient(config, **options)

    @cached_property
    def _namespace(self) -> str:
        if self.namespace:
            return self.namespace
        with self._calling("get namespace", ""):
            return self.client.get_namespace().data

    # -- writing -----------------------------------------------------------------------

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        # Never pick another name for a taken one: _save refuses to overwrite instead.
        if max_length is not None and len(name) > max_length:
            raise ValueError(f"Object key {name!r} is longer than {max_length} characters.")
        return name

    def _save(self, name: str, content: File) -> str:
        if hasattr(content, "seek"):
            content.seek(0)
        data = content.read()
        options: dict[str, Any] = {
            "if_none_match": "*",
            "content_type": "application/octet-stream",
            # The service checks the body against this and refuses a damaged upload.
            "content_md5": base64.b64encode(hashlib.md5(data).digest()).decode(),
        }
        if self.kms_key_id:
            options["opc_sse_kms_key_id"] = self.kms_key_id
        try:
            with self._calling("put", name):
                self.client.put_object(self._namespace, self.bucket, name, data, **options)
        except oci.exceptions.ServiceError as exc:
            if exc.status in (409, 412):
                raise FileExistsError(
                    f"Object {name!r} already exists in bucket {self.bucket!r}; not overwritten."
                ) from exc
            raise
        return name

    def delete(self, name: str) -> None:
        try:
            with self._calling("delete", name):
                self.client.delete_object(self._namespace, self.bucket, name)
        except FileNotFoundError:
            pass

    # -- reading -----------------------------------------------------------------------

    def _open(self, name: str, mode: str = "rb") -> File:
        if mode != "rb":
            raise ValueError(f"Stored documents are opened with mode 'rb', not {mode!r}.")
        with self._calling("get", name):
            response = self.client.get_object(self._namespace, self.bucket, name)
            data = response.data.content
        return ContentFile(data, name=name)

    def exists(self, name: str) -> bool:
        try:
            with self._calling("head", name):
                self.client.head_object(self._namespace, self.bucket, name)
        except FileNotFoundError:
            return False
        return True

    def size(self, name: str) -> int:
        with self._calling("head", name):
            response = self.client.head_object(self._namespace, self.bucket, name)
        return int(response.headers["content-length"])

    def url(self, name: str | None) -> str:
        raise NotImplementedError(
            "Documents are served only through the app, which checks permissions and integrity."
        )

    # -- errors ------------------------------------------------------------------------

    @contextmanager
    def _calling(self, operation: str, name: str) -> Iterator[None]:
        """Translate the SDK's failures: missing → FileNotFoundError, outage → StorageUnavailable.

        A refusal of our credentials (401, 403) is a configuration fault, not the user's: it is
        logged as an error and the user is told the store is unavailable (503), never a 500.
        A 400 means our own request was malformed and propagates as it is.
        """
        try:
            yield
        except oci.exceptions.ServiceError as exc:
            if exc.status == 404:
                raise FileNotFoundError(f"No object {name!r} in bucket {self.bucket!r}.") from exc
            if exc.status in (401, 403):
                logger.error(
                    "OCI Object Storage refused our credentials for %s %s: %s %s (%s)",
                    operation,
                    name,
                    exc.status,
                    exc.code,
                    exc.request_id,
                )
            if exc.status >= 500 or exc.status in (401, 403, 429):
                raise StorageUnavailable(
                    STORE,
                    f"{operation} {name}: {exc.status} {exc.code} "
                    f"(opc-request-id {exc.request_id})",
                ) from exc
            raise
        except RequestException as exc:
            raise StorageUnavailable(
                STORE, f"{operation} {name}: {exc.__class__.__name__}: {exc}"
            ) from exc
