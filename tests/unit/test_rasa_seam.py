"""The Rasa seam (assistant_runtime/patches/, docs/ARCHITECTURE.md "The Rasa seam"): every
runtime patch is registered under the name of the installer that makes it, each names a test
that exists, the Rasa source under each patch is the one it was written for, the servers
refuse any Rasa but the pinned one, only the entry point patches, and the server's own
routes come through a connector.

The installed patches and the source hashes are read in a fresh interpreter, so what other
tests of this session installed or restored cannot hide or fake a patch.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from assistant_runtime.patches import registry
from assistant_runtime.patches.registry import (
    PATCHES,
    PINNED_RASA_VERSION,
    UnsupportedRasaVersion,
)

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json
from assistant_runtime import patches
from assistant_runtime.patches import registry
hashes = {p.target: registry.source_sha256(p.watched_target()) for p in registry.PATCHES}
patches.install(registry.names())  # every patch, whatever ASSISTANT_SPEEDUPS says
print(json.dumps({"hashes": hashes, "replaced": patches.replaced()}))
"""


def _run(code: str) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def probe() -> Iterator[Dict[str, Any]]:
    result = _run(_PROBE)
    assert result.returncode == 0, result.stderr[-3000:]
    yield json.loads(result.stdout.strip().splitlines()[-1])


def test_every_replaced_attribute_is_registered_under_its_patch_and_the_reverse(
    probe: Dict[str, Any],
) -> None:
    registered = {(p.name, p.target) for p in PATCHES}
    replaced = [tuple(entry) for entry in probe["replaced"]]
    assert sorted(set(replaced) - registered) == [], "replaced but not in registry.PATCHES"
    assert sorted(registered - set(replaced)) == [], "in registry.PATCHES but not replaced"
    assert len(replaced) == len(set(replaced)), "an attribute is replaced twice"


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
def test_every_patch_names_an_existing_equality_test(patch: registry.Patch) -> None:
    path, _, name = patch.equality_test.partition("::")
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    tests = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    assert name in tests, f"{patch.equality_test} does not exist"
    assert len(patch.source_sha256) == 64 and patch.why
    assert patch.kind in (registry.FAILURE, registry.SPEED)


def test_every_concern_module_installs_exactly_its_registered_patches() -> None:
    modules = sorted({p.module for p in PATCHES})
    package = ROOT / "assistant_runtime" / "patches"
    concern_files = {f"assistant_runtime.patches.{f.stem}" for f in package.glob("*.py")}
    assert concern_files - set(modules) == {
        "assistant_runtime.patches.__init__",
        "assistant_runtime.patches.book",
        "assistant_runtime.patches.registry",
    }, "a module of the package that patches nothing, or a patch outside the registry"
    for module in modules:
        installers = importlib.import_module(module).INSTALLERS
        assert set(installers) == {p.name for p in PATCHES if p.module == module}, module
    for name in registry.names():  # one kind and one module per name
        assert len({(p.kind, p.module) for p in PATCHES if p.name == name}) == 1, name


def test_the_installed_rasa_is_the_pinned_one() -> None:
    assert registry.installed_rasa_version() == PINNED_RASA_VERSION
    registry.check_rasa_version()


@pytest.mark.parametrize("version", ["3.6.20", "3.6.21.post1", "3.7.0"])
def test_another_rasa_version_is_refused_with_what_to_do(version: str) -> None:
    with pytest.raises(UnsupportedRasaVersion) as error:
        registry.check_rasa_version(version)
    message = str(error.value)
    assert f"Rasa {version} is installed" in message
    assert f"rasa=={PINNED_RASA_VERSION}" in message and "test_rasa_seam.py" in message


def test_the_entry_point_refuses_before_patching_anything(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant_runtime import __main__ as entry
    from assistant_runtime import patches

    monkeypatch.setattr(registry, "installed_rasa_version", lambda: "3.7.0")
    installed_before, replaced_before = patches.installed(), patches.replaced()
    with pytest.raises(SystemExit) as stop:
        entry.main(["run"])
    assert stop.value.code == 2
    assert "Rasa 3.7.0 is installed" in capsys.readouterr().err
    # install() checks too (bench/ab.py and tests call it in-process), before any patch
    with pytest.raises(UnsupportedRasaVersion):
        patches.install()
    assert patches.installed() == installed_before and patches.replaced() == replaced_before


def test_an_unknown_patch_name_is_refused_before_anything_is_installed() -> None:
    from assistant_runtime import patches

    before = patches.replaced()
    with pytest.raises(ValueError, match="unknown patch 'turbo'; known: busy-action-server"):
        patches.install(["schema", "turbo"])
    with pytest.raises(ValueError, match="'savecount' needs 'sqlfetch'"):
        patches.install(["savecount"])
    assert patches.replaced() == before


def test_assistant_speedups_selects_the_speed_patches_only() -> None:
    from assistant_runtime.patches import FAILURE_PATCHES, SPEED_PATCHES, selected

    assert selected({}) == [*FAILURE_PATCHES, *SPEED_PATCHES]
    assert selected({"ASSISTANT_SPEEDUPS": "none"}) == list(FAILURE_PATCHES)
    assert selected({"ASSISTANT_SPEEDUPS": "schema, keepalive"}) == [
        *FAILURE_PATCHES,
        "schema",
        "keepalive",
    ]


def test_only_the_package_itself_imports_its_concern_modules() -> None:
    """Outside the package, code uses install/uninstall of the package; tests and the
    in-process benchmark may reach into a concern module."""
    concerns = {p.module for p in PATCHES}
    found = []
    tops = [d for d in ROOT.iterdir() if d.is_dir() and not d.name.startswith(".")]
    for path in sorted(
        p for d in tops if d.name not in ("tests", "bench") for p in d.rglob("*.py")
    ):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith("assistant_runtime/patches/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = []
            if isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            found += [f"{relative}:{node.lineno} {m}" for m in modules if m in concerns]
    assert found == []


def test_importing_the_package_imports_no_rasa() -> None:
    # the entry point reads the pinned version before anything of Rasa is imported
    code = (
        "import sys, assistant_runtime.patches\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'rasa'))"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "[]"


_BUILD_STORES = """
import sys, tempfile
from pathlib import Path
from assistant_runtime.patches import registry
def current():
    return {p.target: registry.resolve(p.target) for p in registry.PATCHES}
stock = current()
from rasa.utils.endpoints import EndpointConfig
from assistant_runtime.lock_store import LockStoreUnavailable, StrictRedisLockStore
from assistant_runtime.tracker_store import StrictSQLTrackerStore
StrictSQLTrackerStore(dialect="sqlite", db=str(Path(tempfile.mkdtemp()) / "t.db"))
closed = EndpointConfig(url="127.0.0.1", type="x", port=1, db=0, password="", connect_timeout=1)
try:
    StrictRedisLockStore(endpoint_config=closed)
except LockStoreUnavailable:
    pass
plain = {"book", "registry"}  # the data of the package, not a concern module
package = "assistant_runtime.patches."
concerns = sorted(m for m in sys.modules if m.startswith(package) and m[len(package):] not in plain)
assert concerns == [], f"building a store imported {concerns}"
assert current() == stock, "building a store patched Rasa"
print("ok")
"""


def test_importing_and_building_the_stores_patches_nothing() -> None:
    result = _run(_BUILD_STORES)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
    assert "patches are not installed" in result.stderr  # and says so


# -- the server's own routes: Rasa's connector seam, checked before start ----------------------


def test_the_routes_connector_mounts_health_and_ops_at_the_root() -> None:
    from rasa.core.channels.channel import register
    from rasa.core.run import create_http_input_channels
    from sanic import Sanic

    from assistant_runtime.routes import CREDENTIALS_KEY, RuntimeRoutes

    assert CREDENTIALS_KEY == "assistant_runtime.routes.RuntimeRoutes"
    channels = create_http_input_channels(None, str(ROOT / "credentials.yml"))
    assert [c for c in channels if isinstance(c, RuntimeRoutes)]
    app = Sanic("seam_routes_test")
    register([RuntimeRoutes()], app, route="/webhooks/")  # as rasa.core.run.configure_app
    paths = {route.path.strip("/") for route in app.router.routes}
    assert {"health", "ops", "ops/<name:str>"} <= paths


def test_the_entry_point_refuses_credentials_without_the_routes_connector(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant_runtime.__main__ import check_runtime_routes, credentials_path
    from assistant_runtime.routes import CREDENTIALS_KEY

    without = tmp_path / "credentials.yml"
    without.write_text("channels.rest.RestConnector:\n", encoding="utf-8")
    with pytest.raises(SystemExit) as stop:
        check_runtime_routes(["run", "--credentials", str(without)], CREDENTIALS_KEY)
    assert stop.value.code == 2
    assert f"add the line `{CREDENTIALS_KEY}:`" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        check_runtime_routes(["run", f"--credentials={tmp_path / 'none.yml'}"], CREDENTIALS_KEY)
    assert "not found" in capsys.readouterr().err
    for credentials in ("credentials.yml", "credentials.channels.yml"):
        check_runtime_routes(["run", "--credentials", str(ROOT / credentials)], CREDENTIALS_KEY)
    check_runtime_routes(["run", "actions"], CREDENTIALS_KEY)  # not the Rasa server
    check_runtime_routes(["data", "validate"], CREDENTIALS_KEY)
    assert credentials_path(["run", "-m", "models"]) == Path("credentials.yml")
