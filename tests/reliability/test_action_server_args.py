"""``python -m assistant_runtime.action_server``: Rasa's spelling and LOG_LEVEL reach rasa_sdk."""

from __future__ import annotations

import subprocess
import sys
from typing import Dict, List

import pytest

from assistant_runtime.action_server import sdk_arguments


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        (["--port", "5055"], {}, ["--port", "5055"]),
        (["--logging-config-file", "l.yml"], {}, ["--logging-config_file", "l.yml"]),
        (["--logging-config-file=l.yml"], {}, ["--logging-config_file=l.yml"]),
        (["--logging-config_file", "l.yml"], {}, ["--logging-config_file", "l.yml"]),
        ([], {"LOG_LEVEL": "DEBUG"}, ["--debug"]),
        ([], {"LOG_LEVEL": " debug "}, ["--debug"]),
        ([], {"LOG_LEVEL": "WARNING"}, ["--quiet"]),
        ([], {"LOG_LEVEL": "ERROR"}, ["--quiet"]),
        ([], {"LOG_LEVEL": "INFO"}, []),  # rasa_sdk's default
        ([], {"LOG_LEVEL": "loud"}, []),  # unknown: rasa_sdk's default, no crash
        (["-v"], {"LOG_LEVEL": "DEBUG"}, ["-v"]),  # an explicit flag wins
        (["--quiet"], {"LOG_LEVEL": "DEBUG"}, ["--quiet"]),
    ],
)
def test_sdk_arguments(argv: List[str], env: Dict[str, str], expected: List[str]) -> None:
    assert sdk_arguments(argv, env) == expected


def test_the_action_server_module_imports_neither_rasa_nor_tensorflow() -> None:
    code = (
        "import sys, assistant_runtime.action_server, rasa_sdk.endpoint;"
        "print(sorted(m for m in ('rasa', 'tensorflow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
