"""/metrics: Prometheus metrics, for a platform superadmin or a scraper holding the metrics token."""

from __future__ import annotations

import hmac

from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException

from agentmem.api.dependencies import container_of
from agentmem.api.guards import presented_secret
from agentmem.domain.errors import Forbidden

SCRAPERS = "metrics need a platform superadmin credential or the metrics token (AGENTMEM_METRICS_TOKEN)"


class MetricsController(Controller):
    """Every API process's and worker's series, and projection positions and lag read from the database."""

    @get("/metrics", opt={"public": True}, include_in_schema=False)
    async def metrics(self, request: Request, state: State) -> Response[bytes]:
        """The Prometheus text format; 401 without credentials, 403 for anyone but a superadmin or the token."""
        container = container_of(state)
        if container.metrics is None:
            raise NotFoundException("metrics are off (AGENTMEM_METRICS=false)")
        secret = presented_secret(request.headers)
        token = container.settings.metrics_token
        if not (token and hmac.compare_digest(secret.encode(), token.encode())):
            principal = await container.auth.authenticate(secret)
            if not principal.superadmin:
                raise Forbidden(SCRAPERS)
        body = await container.metrics.render()
        return Response(body, media_type=container.metrics.content_type)
