"""`make sop-check`: errors name file, line and field; every flag fires on a small broken file;
the preview is the answer the engine and renderer give."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sop_engine.check import check_file, render_report
from sop_engine.engine import SopEngine
from sop_engine.loader import SopLoadError, load_sop_file
from sop_engine.render import result_text
from tests.sop_owner.sixth_sop import INTENT, OUTCOME_TEXT, SOP_YAML

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=ZoneInfo("Asia/Jakarta"))


def write(tmp_path: Path, text: str, name: str = "uji_esim_qr.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_no(text: str, startswith: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith(startswith))


def messages(path: Path, kind: str = "warnings") -> list[str]:
    report = check_file(path, NOW)
    return [f.render(path) for f in getattr(report, kind)]


def test_a_good_file_has_no_errors_and_no_warnings(tmp_path: Path) -> None:
    report = check_file(write(tmp_path, SOP_YAML), NOW)
    assert report.errors == [] and report.warnings == []
    assert "BISA DIPAKAI: 0 kesalahan, 0 peringatan" in render_report(report)


@pytest.mark.parametrize(
    "old, new, field, where, reason",
    [
        ("source: Halaman uji eSIM\n", "", "source", "id:", "wajib diisi"),
        ("source:", "sumber:", "sumber", "sumber:", "tidak dikenal"),
        ("updated: 2026-11-01", "updated: 1 Nov 2026", "updated", "updated:", "YYYY-MM-DD"),
        (
            "    validator: msisdn",
            "    validator: nomor",
            "slots[0].validator",
            "    validator:",
            "validator 'nomor' tidak dikenal",
        ),
        (
            "    outcome: kirim_ulang",
            "    outcome: kirim_lagi",
            "rules[1]",
            "  - when: {check_uji_esim_qr_baru: false}",
            "hasil 'kirim_lagi' tidak ada",
        ),
    ],
)
def test_errors_name_file_line_and_field(
    tmp_path: Path, old: str, new: str, field: str, where: str, reason: str
) -> None:
    text = SOP_YAML.replace(old, new, 1)
    assert text != SOP_YAML
    path = write(tmp_path, text)
    errors = messages(path, "errors")
    expected = f"{path}, baris {line_no(text, where)}, kolom '{field}'"
    assert any(e.startswith(expected) and reason in e for e in errors), errors


def test_the_loader_refuses_with_the_same_line_and_field(tmp_path: Path) -> None:
    text = SOP_YAML.replace("source:", "sumber:")
    path = write(tmp_path, text)
    with pytest.raises(SopLoadError) as error:
        load_sop_file(path)
    assert f"baris {line_no(text, 'sumber:')}, kolom 'sumber'" in str(error.value)


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    text = SOP_YAML.replace("title: Uji eSIM, kode QR tidak terbaca", 'title: "Uji eSIM')
    path = write(tmp_path, text)
    errors = messages(path, "errors")
    assert len(errors) == 1 and "format YAML salah" in errors[0] and "baris" in errors[0]


def test_a_text_without_page_reference_is_flagged(tmp_path: Path) -> None:
    text = SOP_YAML.replace("        ref: Uji 4\n", '        ref: ""\n')
    path = write(tmp_path, text)
    warnings = messages(path)
    step_line = line_no(text, '      - text: "Kirim ulang')
    assert any(
        f"baris {step_line}, kolom 'outcomes.kirim_ulang.steps[0]'" in w
        and "tidak punya rujukan" in w
        for w in warnings
    ), warnings


@pytest.mark.parametrize(
    "expires, flagged",
    [
        (date(2025, 6, 30), "sudah kedaluwarsa sejak 30 Jun 2025"),
        (NOW.date() + timedelta(days=10), "(10 hari lagi)"),
        (NOW.date() + timedelta(days=30), "(30 hari lagi)"),
        (NOW.date() + timedelta(days=31), None),
    ],
)
def test_expired_and_soon_expiring_pages(tmp_path: Path, expires: date, flagged: str) -> None:
    text = SOP_YAML.replace("expires: null", f"expires: {expires.isoformat()}")
    path = write(tmp_path, text)
    warnings = [w for w in messages(path) if "'expires'" in w]
    if flagged is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and flagged in warnings[0]
        assert f"baris {line_no(text, 'expires:')}" in warnings[0]


def test_the_expiry_day_is_counted_in_the_agents_zone(tmp_path: Path) -> None:
    # 22 Nov 20:00 UTC is already 23 Nov in Jakarta: a page expiring on 22 Nov has expired
    path = write(tmp_path, SOP_YAML.replace("expires: null", "expires: 2026-11-22"))
    late_utc = datetime(2026, 11, 22, 20, 0, tzinfo=ZoneInfo("UTC"))
    warnings = [f.message for f in check_file(path, late_utc).warnings]
    assert any("sudah kedaluwarsa" in w for w in warnings), warnings


def test_missing_page_id_and_version_are_listed(tmp_path: Path) -> None:
    text = SOP_YAML.replace("page_id: KM0000000001", "page_id: null").replace(
        'version: "Uji 1"', "version: null"
    )
    warnings = messages(write(tmp_path, text))
    assert any("'page_id'" in w and "ID halaman" in w for w in warnings)
    assert any("'version'" in w and "versi halaman" in w for w in warnings)


def test_a_rule_always_won_by_an_earlier_one_leaves_its_outcome_unreachable(
    tmp_path: Path,
) -> None:
    text = SOP_YAML.replace(
        "  - when: {check_uji_esim_qr_baru: false}\n",
        "  - when: {check_uji_esim_qr_baru: {in: [true, false]}}\n"
        "    outcome: pindai_ulang\n"
        "  - when: {check_uji_esim_qr_baru: false}\n",
    )
    path = write(tmp_path, text)
    warnings = messages(path)
    assert any("rules[2]" in w and "tidak pernah terpakai" in w for w in warnings), warnings
    assert any("outcomes.kirim_ulang" in w and "tidak bisa dicapai" in w for w in warnings), (
        warnings
    )


def test_a_condition_no_answer_can_meet_leaves_its_outcome_unreachable(tmp_path: Path) -> None:
    text = SOP_YAML.replace("{check_uji_esim_qr_baru: false}", '{check_uji_esim_qr_baru: "tidak"}')
    warnings = messages(write(tmp_path, text))
    assert any("jawaban ini tidak mungkin" in w for w in warnings), warnings
    assert any("outcomes.kirim_ulang" in w and "tidak bisa dicapai" in w for w in warnings)


def test_every_branch_shows_the_answer_the_engine_gives(tmp_path: Path) -> None:
    path = write(tmp_path, SOP_YAML)
    report = check_file(path, NOW)
    assert len(report.branches) == 3  # two rules and the branch no rule covers
    engine = SopEngine(load_sop_file(path))
    answer = engine.evaluate({"msisdn": "081234567890", "check_uji_esim_qr_baru": True}, NOW)
    preview = "\n".join(line.removeprefix("    | ") for line in report.branches[0].splitlines())
    assert result_text(answer) in preview  # type: ignore[arg-type]
    assert OUTCOME_TEXT in preview
    assert 'Bila: "QR eSIM dikirim ulang kurang dari 24 jam lalu?" = Ya' in report.branches[0]
    assert "Template tiket" in report.branches[1] and "KIP: UJI eSIM" in report.branches[1]
    assert "tidak_tercakup" in report.branches[2]
    assert "ID KM0000000001; versi Uji 1" in report.branches[0]


def test_the_command_exits_1_on_errors_and_0_otherwise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import scripts.sop_check as cli

    good = write(tmp_path, SOP_YAML)
    assert cli.main([str(good)]) == 0
    out = capsys.readouterr().out
    assert "CABANG" in out and "make domain lalu make train" in out  # a new intent
    assert "belum ada contoh kalimat" in out  # no NLU examples for it yet
    broken = write(tmp_path, SOP_YAML.replace("source:", "sumber:"), "rusak.yaml")
    assert cli.main([str(broken)]) == 1
    assert "KESALAHAN" in capsys.readouterr().out


def test_the_shipped_files_need_no_retraining(capsys: pytest.CaptureFixture[str]) -> None:
    import scripts.sop_check as cli

    assert cli.main([]) == 0
    out = capsys.readouterr().out
    assert out.count("tidak perlu melatih ulang") == out.count("Pemeriksaan SOP:") >= 5


@pytest.mark.parametrize(
    "old, new, where, field, reason",
    [
        (
            "    entity: msisdn",
            "    entity: nomor_hp",
            "  - name: msisdn",
            "slots[0]",
            "slot msisdn: entity/multiple differ",
        ),
        (
            f"intent: {INTENT}",
            "intent: callback",
            "intent:",
            "intent",
            "duplicate SOP id or intent",
        ),
    ],
)
def test_a_clash_with_the_other_sop_files_names_the_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    old: str,
    new: str,
    where: str,
    field: str,
    reason: str,
) -> None:
    import scripts.sop_check as cli

    text = SOP_YAML.replace(old, new)
    path = write(tmp_path, text)
    assert cli.main([str(path)]) == 1
    out = capsys.readouterr().out
    expected = (
        f"{path}, baris {line_no(text, where)}, kolom '{field}': tidak cocok dengan file SOP lain"
    )
    assert any(expected in line and reason in line for line in out.splitlines()), out


def test_a_placeholder_that_is_no_fact_is_flagged(tmp_path: Path) -> None:
    text = SOP_YAML.replace("ke {msisdn}.", "ke {msidn}.")
    path = write(tmp_path, text)
    warnings = messages(path)
    step_line = line_no(text, '      - text: "Kirim ulang')
    assert any(
        f"baris {step_line}, kolom 'outcomes.kirim_ulang.steps[0].text'" in w and "{msidn}" in w
        for w in warnings
    ), warnings
    assert not any("{msisdn}" in w for w in messages(write(tmp_path, SOP_YAML, "ok.yaml")))
