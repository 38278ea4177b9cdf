"""/v1/secrets: organization secrets, set and deleted by owners, listed by name only; values never leave."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, put
from litestar.params import Parameter
from litestar.status_codes import HTTP_204_NO_CONTENT

from agentmem.api.dependencies import provide
from agentmem.api.responses import no_content, written
from agentmem.api.schemas.tools import SecretIn, SecretListOut, SecretOut, SecretWriteOut
from agentmem.application.secrets import SecretApplication
from agentmem.domain.base import Context

SecretName = Annotated[str, Parameter(pattern=r"^[A-Z][A-Z0-9_]{0,63}$", description="An environment variable name.")]


class SecretController(Controller):
    """Secrets of the caller's organization, given to the tools that name them as environment variables."""

    path = "/v1/secrets"
    tags = ["secrets"]
    dependencies = {"secrets": provide("secrets")}

    @put("/{name:str}", sync_to_thread=True, opt={"permission": "secrets:manage"})
    def set_secret(
        self, name: SecretName, data: SecretIn, context: Context, secrets: SecretApplication
    ) -> Response[SecretWriteOut]:
        """Sets a secret's value (sealed with a key derived from the server secret); the change is an event
        without the value."""
        saved = secrets.set(name, data.value, context)
        body = SecretWriteOut(name=name, version=saved.aggregate.version, position=saved.position)
        return written(body, saved.position, saved.aggregate.version)

    @get("/", sync_to_thread=True, opt={"permission": "secrets:manage"})
    def list_secrets(self, context: Context, secrets: SecretApplication) -> SecretListOut:
        """The organization's secrets by name, with when each was last set."""
        listed = secrets.names(context.tenant_id)
        return SecretListOut(items=[SecretOut(s.name, s.version, s.updated_at) for s in listed])

    @delete("/{name:str}", status_code=HTTP_204_NO_CONTENT, sync_to_thread=True, opt={"permission": "secrets:manage"})
    def delete_secret(self, name: SecretName, context: Context, secrets: SecretApplication) -> Response[None]:
        """Deletes a secret and forgets its value; tools naming it refuse to run until it is set again."""
        return no_content(secrets.delete(name, context).position)
