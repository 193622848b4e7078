"""A sixth SOP file is all the domain, rules and menu need; a reload replaces the served SOPs
only with files the running model can serve."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest
import yaml

import scripts.sync_domain as sync_domain  # noqa: I001
from assistant_runtime import sop_reload
from sop_engine import derive
from sop_engine.loader import (
    SOP_DIR,
    SopRegistry,
    default_registry,
    replace_default_registry,
)
from tests.sop_owner.sixth_sop import INTENT, SOP_YAML


@pytest.fixture
def sop_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "sop"
    shutil.copytree(SOP_DIR, copy)
    return copy


@pytest.fixture
def served() -> Iterator[SopRegistry]:
    """The registry served before the test, put back afterwards."""
    before = default_registry()
    yield before
    replace_default_registry(before)


def test_a_sixth_sop_file_reaches_intents_rules_menu_and_slots(sop_copy: Path) -> None:
    (sop_copy / f"{INTENT}.yaml").write_text(SOP_YAML, encoding="utf-8")
    registry = SopRegistry.from_directory(sop_copy)
    domain = yaml.safe_load(sync_domain.render_domain(registry))
    rules = yaml.safe_load(sync_domain.render_rules(registry))["rules"]

    assert domain["intents"][:6][-1] == INTENT  # menu order 6, before the flow intents
    help_buttons = domain["responses"]["utter_help"][0]["buttons"]
    assert {"title": "Uji eSIM QR", "payload": f"/{INTENT}"} == help_buttons[-1]
    assert len(help_buttons) == 6
    assert "- Uji: kode QR eSIM tidak terbaca" in domain["responses"]["utter_help"][0]["text"]
    assert '"qr esim gagal dipindai"' in domain["responses"]["utter_greet"][0]["text"]
    assert "Uji: kode QR eSIM" in domain["responses"]["utter_out_of_scope"][0]["text"]
    assert domain["slots"]["check_uji_esim_qr_baru"]["type"] == "bool"
    assert "check_uji_esim_qr_baru" in domain["forms"]["sop_form"]["required_slots"]
    # a message naming the new case never fills a form value
    assert INTENT in domain["slots"]["msisdn"]["mappings"][-1]["not_intent"]
    start = next(r for r in rules if r["rule"] == f"start {INTENT}")
    switch = next(r for r in rules if r["rule"] == f"switch to {INTENT}")
    assert start["steps"][:2] == [{"intent": INTENT}, {"action": "action_start_case"}]
    assert switch["condition"] == [{"active_loop": "sop_form"}]
    # the hand-written parts stay as they are
    assert "greet" in domain["intents"] and "utter_goodbye" in domain["responses"]
    assert any(r["rule"] == "stop inside a form" for r in rules)


def test_the_shipped_domain_and_rules_are_the_derived_ones() -> None:
    registry = SopRegistry.from_directory()
    assert sync_domain.DOMAIN.read_text(encoding="utf-8") == sync_domain.render_domain(registry)
    assert sync_domain.RULES.read_text(encoding="utf-8") == sync_domain.render_rules(registry)
    assert derive.sop_intents(registry)[0] == "pulsa_belum_masuk"  # menu order, not file order


def test_a_changed_outcome_text_is_served_after_a_reload(
    sop_copy: Path, served: SopRegistry
) -> None:
    path = sop_copy / "callback.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "Informasi yang disampaikan jelas dan singkat.", "Sampaikan informasi singkat."
        ),
        encoding="utf-8",
    )
    result = sop_reload.reload_sops(sop_copy)
    assert result.reloaded and result.error is None and result.notes == []
    steps = default_registry().by_id["callback"].sop.outcomes["pelurusan_informasi"].steps
    assert "Sampaikan informasi singkat." in [s.text for s in steps]
    assert {
        "id": "callback",
        "page_id": "KM1229082304",
        "version": "Update 29 April 2025",
        "expires": "2025-06-30",
    } in result.sops


def test_a_broken_file_is_refused_and_the_old_sops_keep_serving(
    sop_copy: Path, served: SopRegistry
) -> None:
    path = sop_copy / "callback.yaml"
    text = path.read_text(encoding="utf-8").replace("\nsource:", "\nsumber:")
    path.write_text(text, encoding="utf-8")
    result = sop_reload.reload_sops(sop_copy)
    assert not result.reloaded
    line = next(i for i, s in enumerate(text.splitlines(), 1) if s.startswith("sumber:"))
    assert f"callback.yaml, baris {line}, kolom 'sumber'" in (result.error or "")
    assert "versi lama tetap dipakai" in (result.error or "")
    assert default_registry() is served


def test_a_new_intent_or_question_needs_training_and_is_refused(
    sop_copy: Path, served: SopRegistry
) -> None:
    (sop_copy / f"{INTENT}.yaml").write_text(SOP_YAML, encoding="utf-8")
    result = sop_reload.reload_sops(sop_copy)
    assert not result.reloaded
    assert "make train" in (result.error or "") and INTENT in (result.error or "")
    assert "check_uji_esim_qr_baru" in (result.error or "")
    assert default_registry() is served


def test_a_menu_text_change_is_served_with_a_note(sop_copy: Path, served: SopRegistry) -> None:
    path = sop_copy / "imes_tagihan.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("button: IMES tagihan", "button: IMES"),
        encoding="utf-8",
    )
    result = sop_reload.reload_sops(sop_copy)
    assert result.reloaded
    assert any("make train" in note for note in result.notes)


class _Request:
    def __init__(self, authorization: str | None) -> None:
        self.headers = {"Authorization": authorization} if authorization else {}


@pytest.mark.parametrize(
    "configured, given, status",
    [
        ("", "Bearer anything", 403),
        ("s3cret-token-for-tests", None, 401),
        ("s3cret-token-for-tests", "Bearer wrong", 401),
        ("s3cret-token-for-tests", "s3cret-token-for-tests", 401),  # no Bearer
        ("s3cret-token-for-tests", "Bearer s3cret-token-for-tests", None),
    ],
)
def test_the_reload_call_needs_the_token(
    monkeypatch: pytest.MonkeyPatch, configured: str, given: str | None, status: int | None
) -> None:
    monkeypatch.setenv(sop_reload.TOKEN_ENV, configured)
    refused = sop_reload._authorised(_Request(given))  # type: ignore[arg-type]
    assert (refused.status if refused is not None else None) == status
