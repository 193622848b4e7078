from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.e2e.servers import MODEL, Servers


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    running = Servers(
        workdir=Path(tmp_path_factory.mktemp("servers")),
        env_extra={"ASSISTANT_FIXED_NOW": "2026-11-22T10:00:00+07:00"},
    )
    running.start_actions()
    running.start_rasa()
    yield running
    running.stop()
