"""`make sop-check FILE=sop/x.yaml`: checks one SOP file (all of sop/ without FILE) and shows
every branch with the answer the agent would see, in Indonesian, for the SOP's owner.

The file itself is checked by sop_engine/check.py; here the project around it: does it fit
the other SOP files (shared slots), and does it need `make domain` + `make train` (a new
intent, slot, question or menu text) or only a reload of the running assistant.
Exit status 1 when a file has errors (the assistant would refuse to load it).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import List, Optional

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import sync_domain  # noqa: E402

from sop_engine.check import Finding, Report, check_file, line_of, render_report  # noqa: E402
from sop_engine.loader import NON_SOP_FILES, SOP_DIR, SopLoadError, SopRegistry, load_sop_file  # noqa: E402

NLU_DIR = ROOT / "data" / "nlu"


def nlu_examples(intent: str) -> int:
    count = 0
    for path in sorted(NLU_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("nlu") or []:
            if isinstance(item, dict) and item.get("intent") == intent:
                count += sum(
                    1 for line in str(item.get("examples", "")).splitlines() if line.strip()
                )
    return count


def _line_in_file(report: Report, message: str) -> tuple[Optional[int], str]:
    """The line of this file that a cross-file problem is about, when the message names it."""
    sop = report.sop
    assert sop is not None
    root = yaml.compose(report.path.read_text(encoding="utf-8"))
    for kind, section, names in (
        ("slot", "slots", [s.name for s in sop.slots]),
        ("question", "questions", [q.name for q in sop.questions]),
    ):
        for index, name in enumerate(names):
            if re.search(rf"\b{kind} {re.escape(name)}\b", message):
                return line_of(root, (section, index)), f"{section}[{index}]"
    for key in ("menu", "intent"):
        if key in message:
            return line_of(root, (key,)), key
    return None, "(antar file SOP)"


def project_findings(report: Report) -> tuple[List[Finding], List[Finding], Optional[str]]:
    """Errors, warnings and the next step (reload or retrain) for a file that loads."""
    sop = report.sop
    assert sop is not None
    errors: List[Finding] = []
    warnings: List[Finding] = []
    try:
        others = [
            load_sop_file(p)
            for p in sorted(SOP_DIR.glob("*.yaml"))
            if p.name not in NON_SOP_FILES and p.stem != sop.id
        ]
    except SopLoadError as exc:
        warnings.append(
            Finding(None, "(file SOP lain)", f"file lain rusak, kecocokan tidak diperiksa: {exc}")
        )
        return errors, warnings, None
    try:
        # in file name order, as the assistant loads them (the generated order follows it)
        registry = SopRegistry(sorted(others + [sop], key=lambda s: s.id))
        domain = sync_domain.render_domain(registry)
        rules = sync_domain.render_rules(registry)
    except (SopLoadError, ValueError) as exc:
        line, where = _line_in_file(report, str(exc))
        errors.append(Finding(line, where, f"tidak cocok dengan file SOP lain: {exc}"))
        return errors, warnings, None
    examples = nlu_examples(sop.intent)
    if examples == 0:
        warnings.append(
            Finding(
                None,
                "intent",
                f"belum ada contoh kalimat untuk intent '{sop.intent}' di "
                "data/nlu/: tambahkan sebelum make train.",
            )
        )
    in_sync = (
        sync_domain.DOMAIN.read_text(encoding="utf-8") == domain
        and sync_domain.RULES.read_text(encoding="utf-8") == rules
    )
    if in_sync:
        step = (
            "Langkah berikut: muat ulang asisten yang berjalan (make sop-reload); "
            "tidak perlu melatih ulang."
        )
    else:
        step = (
            "Langkah berikut: perubahan ini menyentuh intent, slot, pertanyaan atau teks "
            "menu: jalankan make domain lalu make train, kemudian jalankan ulang asisten."
        )
    return errors, warnings, step


def main(argv: List[str]) -> int:
    paths = [Path(a) for a in argv] or sorted(
        p.relative_to(Path.cwd()) if p.is_relative_to(Path.cwd()) else p
        for p in SOP_DIR.glob("*.yaml")
        if p.name not in NON_SOP_FILES
    )
    failed = False
    for number, path in enumerate(paths):
        report = check_file(path)
        errors: List[Finding] = []
        warnings: List[Finding] = []
        step = None
        if report.sop is not None and not report.errors:
            errors, warnings, step = project_findings(report)
        if number:
            print("\n" + "=" * 78 + "\n")
        print(render_report(report, errors, warnings))
        if step:
            print("\n" + step)
        failed = failed or bool(report.errors or errors)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
