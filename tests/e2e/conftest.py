from __future__ import annotations

from typing import Iterator

import pytest

from testkit.assistant import Servers


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with Servers(workdir=tmp_path_factory.mktemp("servers")).running() as running:
        yield running
