"""On real servers, in a temporary copy of the project: a sixth SOP added as data alone
(YAML + NLU examples, `make domain`, training) answers through REST, and an outcome text
changed in the running copy goes live by a reload, without restarting Rasa.

Training here uses a copy of config.yml with fewer DIET epochs (FAST_EPOCHS), for this
temporary copy only: the test proves the derivation and the wiring, not NLU quality
(`make test-nlu` gates that on the real model).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Iterator, List, Optional

import pytest
import requests
import yaml

from testkit.assistant import PYTHON, ROOT, Servers, server_env
from testkit.conversations import sop_result
from tests.sop_owner.sixth_sop import INTENT, NLU_YAML, OUTCOME_TEXT, SOP_YAML

pytestmark = pytest.mark.servers

FAST_EPOCHS = 10
TOKEN = "reload-token-for-tests-" + uuid.uuid4().hex[:8]
# what the project copy needs: tracked and new files, without models, var, results, .venv
SKIP = {".venv", ".git", "models", "var", "results", "test-artifacts", "bench-out"}


def _copy_project(target: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    for name in filter(None, listed):
        source = ROOT / name
        if name.split("/")[0] in SKIP or not source.is_file():
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name)


def _run(args: List[str], cwd: Path) -> None:
    done = subprocess.run(
        args, cwd=cwd, env=server_env({"PYTHONPATH": str(cwd)}), capture_output=True, text=True
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    root = tmp_path_factory.mktemp("project")
    _copy_project(root)
    # what an SOP owner adds: the SOP file and NLU examples, nothing else
    (root / "sop" / f"{INTENT}.yaml").write_text(SOP_YAML, encoding="utf-8")
    (root / "data" / "nlu" / f"{INTENT}.yml").write_text(NLU_YAML, encoding="utf-8")
    python = str(PYTHON)
    _run([python, "scripts/sync_domain.py"], root)
    _run([python, "scripts/sync_domain.py", "--check"], root)
    config = yaml.safe_load((root / "config.yml").read_text(encoding="utf-8"))
    for component in config["pipeline"]:
        if component["name"].endswith("DIETClassifier"):
            component["epochs"] = FAST_EPOCHS
    (root / "config.fast.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    started = time.monotonic()
    _run(
        [
            str(PYTHON.parent / "rasa"),
            "train",
            "--config",
            "config.fast.yml",
            "--fixed-model-name",
            "assistant",
            "--out",
            "models",
        ],
        root,
    )
    print(f"\ntraining the project copy with a sixth SOP: {time.monotonic() - started:.0f} s")
    with Servers(
        workdir=root / "run",
        root=root,
        model=root / "models" / "assistant.tar.gz",
        env=server_env({"PYTHONPATH": str(root), "SOP_RELOAD_TOKEN": TOKEN}),
    ).running() as running:
        yield running


def _answer_of_the_sixth_sop(servers: Servers, opening: str = "qr esim gagal dipindai") -> str:
    sender = f"owner-{uuid.uuid4().hex[:8]}"
    first = servers.say(sender, opening)
    assert any("Uji eSIM" in (m.get("text") or "") for m in first), first
    servers.say(sender, "081234567890")
    last = servers.say(sender, "/affirm")
    result = sop_result(last)
    assert result is not None, last
    assert result["case_id"] == f"{INTENT}.pindai_ulang"
    return "\n".join(result["steps"]) + "\n" + result["source"]


def _reload(servers: Servers, token: Optional[str] = TOKEN) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(
        f"http://127.0.0.1:{servers.action_port}/admin/sop/reload", headers=headers, timeout=60
    )


def _edit_sop(servers: Servers, old: str, new: str) -> None:
    path = servers.root / "sop" / f"{INTENT}.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_the_sixth_sop_answers_through_rest(project: Servers) -> None:
    answer = _answer_of_the_sixth_sop(project)
    assert OUTCOME_TEXT in answer
    assert "ID KM0000000001; versi Uji 1" in answer
    # the derived help lists it, with its button
    help_reply = project.say(f"owner-{uuid.uuid4().hex[:8]}", "/help")
    buttons = [b["payload"] for m in help_reply for b in m.get("buttons") or []]
    assert f"/{INTENT}" in buttons


def test_the_reload_call_needs_the_token(project: Servers) -> None:
    assert _reload(project, token=None).status_code == 401
    assert _reload(project, token="wrong").status_code == 401


def test_a_changed_outcome_text_goes_live_without_restarting_rasa(project: Servers) -> None:
    assert project.rasa is not None
    rasa = project.rasa.process
    _edit_sop(project, OUTCOME_TEXT, "Teks baru: pindai ulang QR dari email aktivasi.")
    _edit_sop(project, 'version: "Uji 1"', 'version: "Uji 2"')
    reloaded = _reload(project)
    assert reloaded.status_code == 200, reloaded.text
    answer = _answer_of_the_sixth_sop(project)
    assert "Teks baru: pindai ulang QR dari email aktivasi." in answer
    assert OUTCOME_TEXT not in answer
    assert "versi Uji 2" in answer
    assert rasa is not None and rasa.poll() is None
    assert project.rasa.process is rasa  # the same Rasa process


def test_a_broken_file_is_refused_and_the_last_good_one_keeps_serving(project: Servers) -> None:
    _reload(project)  # whatever the earlier tests left is the last good state
    before = _answer_of_the_sixth_sop(project)
    path = project.root / "sop" / f"{INTENT}.yaml"
    good = path.read_text(encoding="utf-8")
    try:
        path.write_text(good.replace("\nsource:", "\nsumber:"), encoding="utf-8")
        refused = _reload(project)
        assert refused.status_code == 422
        error = refused.json()["error"]
        assert f"{INTENT}.yaml, baris" in error and "kolom 'sumber'" in error
        assert _answer_of_the_sixth_sop(project) == before
    finally:
        path.write_text(good, encoding="utf-8")


def test_sighup_reloads_the_action_server(project: Servers) -> None:
    assert project.actions is not None
    actions = project.actions
    log = project.workdir / "actions.log"
    seen = log.read_text(encoding="utf-8", errors="replace").count("sop reload: serving")
    _edit_sop(project, "title: Pindai ulang QR eSIM", "title: Pindai ulang QR eSIM (SIGHUP)")
    os.kill(actions.pid, signal.SIGHUP)
    deadline = time.monotonic() + 60
    while log.read_text(encoding="utf-8", errors="replace").count("sop reload: serving") == seen:
        assert time.monotonic() < deadline, "no reload logged after SIGHUP"
        time.sleep(0.2)
    sender = f"owner-{uuid.uuid4().hex[:8]}"
    project.say(sender, "qr esim gagal dipindai")
    project.say(sender, "081234567890")
    result = sop_result(project.say(sender, "/affirm"))
    assert result is not None and result["title"] == "Pindai ulang QR eSIM (SIGHUP)"
    assert actions.alive
