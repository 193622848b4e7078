"""``python -m assistant_runtime.action_server …``: the action server as ``make run`` starts it.

rasa_sdk's own server, not ``rasa run actions``: that command imports all of Rasa and
TensorFlow only to start rasa_sdk (486 instead of 51 MB, ready in 8-15 instead of 1-4 s,
docs/benchmarks.md). Two things ``rasa run actions`` did are kept here:

* ``LOG_LEVEL`` (DEBUG, INFO, WARNING, ERROR) sets the level when no ``-v`` / ``-vv`` /
  ``--debug`` / ``--quiet`` flag is given (rasa_sdk alone ignores it);
* ``--logging-config-file`` is accepted as Rasa spells it (rasa_sdk: ``--logging-config_file``).

It also re-reads the SOP files on SIGHUP or an authenticated call (assistant_runtime/sop_reload.py).

Deliberately imports neither Rasa nor TensorFlow.
"""

from __future__ import annotations

import os
import sys
from typing import List, Mapping, Optional, Sequence

_LEVEL_FLAGS = {"DEBUG": "--debug", "WARNING": "--quiet", "ERROR": "--quiet", "CRITICAL": "--quiet"}
_EXPLICIT_LEVEL = ("-v", "--verbose", "-vv", "--debug", "--quiet")


def sdk_arguments(argv: Sequence[str], env: Mapping[str, str]) -> List[str]:
    """rasa_sdk's arguments for ``argv`` (Rasa's spelling accepted) and ``LOG_LEVEL``."""
    args: List[str] = []
    for arg in argv:
        if arg == "--logging-config-file":
            arg = "--logging-config_file"
        elif arg.startswith("--logging-config-file="):
            arg = "--logging-config_file=" + arg.split("=", 1)[1]
        args.append(arg)
    if not any(arg in _EXPLICIT_LEVEL for arg in args):
        flag = _LEVEL_FLAGS.get(env.get("LOG_LEVEL", "").strip().upper())
        if flag:
            args.append(flag)
    return args


def main(argv: Optional[Sequence[str]] = None) -> None:
    from rasa_sdk.__main__ import main_from_args
    from rasa_sdk.endpoint import create_argument_parser

    from assistant_runtime import sop_reload

    sop_reload.install()  # SIGHUP / POST /admin/sop/reload re-read sop/*.yaml
    args = sdk_arguments(sys.argv[1:] if argv is None else argv, os.environ)
    main_from_args(create_argument_parser().parse_args(args))


if __name__ == "__main__":
    main()
