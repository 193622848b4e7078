"""The Rasa server's own routes, added through Rasa's connector seam instead of a patch.

Rasa mounts every connector listed in the credentials file (credentials*.yml) as a Sanic
blueprint under ``/webhooks/<url_prefix>``; Rasa joins the two with ``urljoin``, so the
prefix ``/`` of :class:`RuntimeRoutes` puts its routes at the root, where nginx,
``make cluster`` and the tests ask for them:

* ``GET /health`` (:mod:`assistant_runtime.health`);
* the TLs' ``/ops/`` page (:mod:`analytics.ops`);
* at server start, the masking filter on every log handler, including the ones Sanic adds
  after the logging config file was applied (:mod:`assistant_runtime.masking`).

It receives no messages. ``python -m assistant_runtime run`` refuses to start with a
credentials file that does not list it (:func:`assistant_runtime.__main__.main`).
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint

from analytics.ops import add_ops_routes
from assistant_runtime.health import add_health_route
from assistant_runtime.masking import protect_all_handlers


async def _protect_logging(app: Any, loop: Any) -> None:
    protect_all_handlers()


class RuntimeRoutes(InputChannel):
    """No settings (an empty section in credentials*.yml); receives no messages."""

    @classmethod
    def name(cls) -> str:
        return "runtime_routes"

    def url_prefix(self) -> str:
        return "/"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        routes = Blueprint("runtime_routes")
        add_health_route(routes)
        add_ops_routes(routes)
        routes.listener("before_server_start")(_protect_logging)
        return routes


# the key of this connector in credentials*.yml
CREDENTIALS_KEY = f"{RuntimeRoutes.__module__}.{RuntimeRoutes.__qualname__}"
