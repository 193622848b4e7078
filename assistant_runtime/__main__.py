"""``python -m assistant_runtime run …``: ``rasa`` with the runtime hooks installed.

Takes exactly ``rasa``'s arguments. Differences:

* :func:`assistant_runtime.hooks.install` runs before Rasa configures the server (busy
  answer when the action server or a store fails, strict stores, ``GET /health``, masking
  of every log handler);
* it refuses to start on a Rasa other than the pinned one
  (:mod:`assistant_runtime.rasa_seam`);
* ``--enable-api`` needs a secret from the environment: ``RASA_AUTH_TOKEN`` (``?token=``)
  and/or ``RASA_JWT_SECRET`` (``Authorization: Bearer <JWT>``, method
  ``RASA_JWT_METHOD``, default HS256). They are handed to Rasa inside this process, so they
  never appear on a command line (``ps``) or in the repository. Without one, or with
  ``--auth-token`` / ``--jwt-secret`` typed on the command line, it refuses to start.
"""

from __future__ import annotations

import os
import sys
from typing import List, Mapping, Optional

MIN_SECRET_CHARS = 16
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


def main(argv: Optional[List[str]] = None) -> None:
    from assistant_runtime.rasa_seam import UnsupportedRasaVersion, check_rasa_version

    try:  # before anything is patched: the patches fit the pinned Rasa only
        check_rasa_version()
    except UnsupportedRasaVersion as error:
        raise ConfigurationError(str(error)) from None
    args = api_arguments(list(sys.argv[1:] if argv is None else argv), os.environ)
    from assistant_runtime import hooks

    hooks.install()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *args]
    rasa_main()


if __name__ == "__main__":
    main()
