"""The Rasa seam (assistant_runtime/rasa_seam.py): every runtime patch is registered, each
names a test that exists, the Rasa source under each patch is the one it was written for,
and the servers refuse any Rasa but the pinned one.

The installed patches and the source hashes are read in a fresh interpreter, so what other
tests of this session installed or restored cannot hide or fake a patch.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from assistant_runtime import rasa_seam
from assistant_runtime.rasa_seam import PATCHES, PINNED_RASA_VERSION, UnsupportedRasaVersion
from assistant_runtime.speedups import ALL

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json
from assistant_runtime import rasa_seam
hashes = {p.target: rasa_seam.source_sha256(p.watched_target()) for p in rasa_seam.PATCHES}
from assistant_runtime import hooks, speedups
hooks.install()
patched = []
for owner, attribute, _ in hooks._originals + speedups._originals:
    if isinstance(owner, type):
        target = f"{owner.__module__}:{owner.__qualname__}.{attribute}"
    else:
        target = f"{getattr(owner, '__name__', '')}:{attribute}"
    if target.split(".")[0] == "rasa":
        patched.append(target)
print(json.dumps({"hashes": hashes, "patched": patched}))
"""


@pytest.fixture(scope="module")
def probe() -> Iterator[Dict[str, Any]]:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "ASSISTANT_SPEEDUPS": ",".join(ALL)},  # every patch
    )
    assert result.returncode == 0, result.stderr[-3000:]
    yield json.loads(result.stdout.strip().splitlines()[-1])


def test_every_installed_rasa_patch_is_registered_and_every_registered_one_installed(
    probe: Dict[str, Any],
) -> None:
    registered = {p.target for p in PATCHES}
    installed = set(probe["patched"])
    assert sorted(installed - registered) == [], "patched but not in rasa_seam.PATCHES"
    assert sorted(registered - installed) == [], "in rasa_seam.PATCHES but not patched"
    assert len(probe["patched"]) == len(installed), "a Rasa attribute is patched twice"


def test_rasa_source_under_every_patch_is_the_one_it_was_written_for(
    probe: Dict[str, Any],
) -> None:
    todo = [
        f"{p.name}: {p.watched_target()} changed -> re-read it against {p.module}, "
        f"run {p.equality_test}, then record sha256 {probe['hashes'][p.target]}"
        for p in PATCHES
        if probe["hashes"][p.target] != p.source_sha256
    ]
    assert todo == [], "Rasa changed under these patches:\n" + "\n".join(todo)


@pytest.mark.parametrize("patch", PATCHES, ids=[p.target for p in PATCHES])
def test_every_patch_names_an_existing_equality_test(patch: rasa_seam.Patch) -> None:
    path, _, name = patch.equality_test.partition("::")
    assert (ROOT / patch.module).is_file()
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    tests = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    assert name in tests, f"{patch.equality_test} does not exist"
    assert len(patch.source_sha256) == 64 and patch.why


def test_the_installed_rasa_is_the_pinned_one() -> None:
    assert rasa_seam.installed_rasa_version() == PINNED_RASA_VERSION
    rasa_seam.check_rasa_version()


@pytest.mark.parametrize("version", ["3.6.20", "3.6.21.post1", "3.7.0"])
def test_another_rasa_version_is_refused_with_what_to_do(version: str) -> None:
    with pytest.raises(UnsupportedRasaVersion) as error:
        rasa_seam.check_rasa_version(version)
    message = str(error.value)
    assert f"Rasa {version} is installed" in message
    assert f"rasa=={PINNED_RASA_VERSION}" in message and "test_rasa_seam.py" in message


def test_the_entry_point_refuses_before_patching_anything(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant_runtime import __main__ as entry
    from assistant_runtime import hooks

    monkeypatch.setattr(rasa_seam, "installed_rasa_version", lambda: "3.7.0")
    installed_before = dict(hooks._installed)
    with pytest.raises(SystemExit) as stop:
        entry.main(["run"])
    assert stop.value.code == 2
    assert "Rasa 3.7.0 is installed" in capsys.readouterr().err
    assert hooks._installed == installed_before
    # the hooks check too (a plain `rasa run` with the strict stores), before any patch
    monkeypatch.setattr(hooks, "_installed", {})
    originals = list(hooks._originals)
    with pytest.raises(UnsupportedRasaVersion):
        hooks.install()
    assert hooks._originals == originals and hooks._installed == {}


_BUILD_STORE = """
import sys, tempfile
from pathlib import Path
from rasa.core.agent import Agent
from rasa.core.actions.action import RemoteAction
stock = (Agent.handle_message, Agent.__dict__["_create_tracker_store"], RemoteAction.run)
from assistant_runtime.tracker_store import StrictSQLTrackerStore
StrictSQLTrackerStore(dialect="sqlite", db=str(Path(tempfile.mkdtemp()) / "t.db"))
assert "assistant_runtime.hooks" not in sys.modules, "building a store imported the hooks"
now = (Agent.handle_message, Agent.__dict__["_create_tracker_store"], RemoteAction.run)
assert now == stock, "building a store patched Rasa"
print("ok")
"""


def test_building_a_store_patches_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _BUILD_STORE], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
    assert "hooks are not installed" in result.stderr  # and says so
