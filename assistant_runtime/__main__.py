"""``python -m assistant_runtime run …``: ``rasa`` with the runtime patches installed.

Takes exactly ``rasa``'s arguments. Before anything is patched, it checks (and refuses to
start, exit code 2, with the reason on stderr):

* that Rasa is the pinned version (:mod:`assistant_runtime.patches.registry`): the patches
  were written for it only;
* ``--enable-api`` needs a secret from the environment: ``RASA_AUTH_TOKEN`` (``?token=``)
  and/or ``RASA_JWT_SECRET`` (``Authorization: Bearer <JWT>``, method
  ``RASA_JWT_METHOD``, default HS256). They are handed to Rasa inside this process, so they
  never appear on a command line (``ps``) or in the repository. Without one, or with
  ``--auth-token`` / ``--jwt-secret`` typed on the command line, it refuses to start;
* for ``run``: that the credentials file lists the connector of the server's own routes
  (:class:`assistant_runtime.routes.RuntimeRoutes`: ``GET /health``, ``/ops/``, log masking).

Then :func:`assistant_runtime.patches.install` runs before Rasa configures the server (busy
answer when the action server or a store fails, strict stores, the speed patches) and Rasa's
own ``main`` takes over.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import List, Mapping, Optional

import yaml

MIN_SECRET_CHARS = 16
DEFAULT_CREDENTIALS = "credentials.yml"  # rasa.shared.constants.DEFAULT_CREDENTIALS_PATH
_SECRET_FLAGS = ("--auth-token", "--jwt-secret", "--jwt-private-key")


class ConfigurationError(SystemExit):
    """Refusal to start, with the reason on stderr and exit code 2."""

    def __init__(self, message: str) -> None:
        print(f"assistant_runtime: {message}", file=sys.stderr)
        super().__init__(2)


def api_arguments(argv: List[str], env: Mapping[str, str]) -> List[str]:
    """Returns ``argv`` with the HTTP API secrets from ``env`` appended when the API is on."""
    for flag in _SECRET_FLAGS:
        if any(arg == flag or arg.startswith(flag + "=") for arg in argv):
            raise ConfigurationError(
                f"{flag} on the command line is refused (it would show in `ps` and in shell "
                "history); set RASA_AUTH_TOKEN or RASA_JWT_SECRET in the environment instead."
            )
    if "--enable-api" not in argv:
        return list(argv)
    token = env.get("RASA_AUTH_TOKEN", "")
    jwt_secret = env.get("RASA_JWT_SECRET", "")
    if not token and not jwt_secret:
        raise ConfigurationError(
            "--enable-api needs RASA_AUTH_TOKEN or RASA_JWT_SECRET in the environment: "
            "the HTTP API must not be open to anyone on the network."
        )
    for name, value in (("RASA_AUTH_TOKEN", token), ("RASA_JWT_SECRET", jwt_secret)):
        if value and len(value) < MIN_SECRET_CHARS:
            raise ConfigurationError(f"{name} is shorter than {MIN_SECRET_CHARS} characters.")
    result = list(argv)
    if token:
        result += ["--auth-token", token]
    if jwt_secret:
        result += ["--jwt-secret", jwt_secret, "--jwt-method", env.get("RASA_JWT_METHOD", "HS256")]
    return result


def credentials_path(argv: List[str]) -> Path:
    """The credentials file ``rasa run`` reads: ``--credentials`` or Rasa's default."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--credentials", default=DEFAULT_CREDENTIALS)
    known, _ = parser.parse_known_args(argv)
    return Path(known.credentials)


def check_runtime_routes(argv: List[str], routes_key: str) -> None:
    """For ``run`` (the Rasa server): the credentials file must list the connector
    ``routes_key`` (``GET /health``, ``/ops/`` and log masking come through it)."""
    if argv[:1] != ["run"] or argv[1:2] == ["actions"]:
        return
    path = credentials_path(argv)
    what = f"{routes_key} (GET /health, the /ops/ page and log masking of the Rasa server)"
    if not path.is_file():
        raise ConfigurationError(
            f"credentials file {path} not found; the Rasa server needs one that lists the "
            f"channels and {what}, as credentials.yml does."
        )
    try:
        channels = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ConfigurationError(f"credentials file {path} cannot be read: {error}") from None
    if not isinstance(channels, dict) or routes_key not in channels:
        raise ConfigurationError(
            f"credentials file {path} does not list {what}; add the line `{routes_key}:` "
            "as credentials.yml has it."
        )


def main(argv: Optional[List[str]] = None) -> None:
    from assistant_runtime.patches.registry import UnsupportedRasaVersion, check_rasa_version

    try:  # before anything is patched: the patches fit the pinned Rasa only
        check_rasa_version()
    except UnsupportedRasaVersion as error:
        raise ConfigurationError(str(error)) from None
    args = api_arguments(list(sys.argv[1:] if argv is None else argv), os.environ)
    from assistant_runtime.routes import CREDENTIALS_KEY

    check_runtime_routes(args, CREDENTIALS_KEY)
    from assistant_runtime import patches
    from assistant_runtime.masking import install_record_factory

    install_record_factory()  # every record masked from here on, also before logging.yml
    patches.install()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *args]
    rasa_main()


if __name__ == "__main__":
    main()
