"""`make sop-check`: one SOP file checked and previewed for its owner, in Indonesian.

- schema errors with the file, line and field (pydantic's error location looked up in the
  YAML node tree, whose nodes carry their line);
- every rule with the answer the agent would see, rendered by the engine and the renderer
  the assistant uses (the rule's own conditions taken as the facts);
- flags: a text without a page reference, a {placeholder} that is no fact of the SOP, an
  expired or soon-expiring page (in the agents' zone), a page without id or version, rules
  that an earlier rule always wins over and conditions no answer can meet, so outcomes that
  no rule can reach.

No Rasa import: the checks on the project around the file (domain, NLU examples) are added by
scripts/sop_check.py.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import yaml
from pydantic import ValidationError

from sop_engine import kinds
from sop_engine.engine import UNCERTAIN_OUTCOME, SopEngine, match
from sop_engine.models import Condition, Matcher, SopFile
from sop_engine.render import result_text
from sop_engine.timeparse import agent_timezone, format_date

EXPIRY_NOTICE_DAYS = 30
Loc = Tuple[Union[str, int], ...]


@dataclass
class Finding:
    line: Optional[int]  # 1-based; None when the problem has no single place
    field: str
    message: str

    def render(self, path: Path) -> str:
        where = f"{path}, baris {self.line}" if self.line else str(path)
        return f"{where}, kolom '{self.field}': {self.message}"


@dataclass
class Report:
    path: Path
    errors: List[Finding] = field(default_factory=list)
    warnings: List[Finding] = field(default_factory=list)
    sop: Optional[SopFile] = None
    branches: List[str] = field(default_factory=list)


# -- YAML positions ------------------------------------------------------------------------
def _child(node: yaml.Node, key: Union[str, int]) -> Optional[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == str(key):
                found: yaml.Node = value_node
                return found
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int):
        if 0 <= key < len(node.value):
            item: yaml.Node = node.value[key]
            return item
    return None


def line_of(root: Optional[yaml.Node], loc: Sequence[Union[str, int]]) -> Optional[int]:
    """Line of the deepest node of ``loc`` that exists in the file (1-based)."""
    node, line = root, None
    for part in loc:
        if node is None or part == "__root__":
            break
        child = _child(node, part)
        if child is None:
            # the key itself is missing: point at its parent mapping
            break
        node = child
        line = child.start_mark.line + 1
    if line is None and root is not None:
        line = root.start_mark.line + 1
    return line


def _key_line(root: Optional[yaml.Node], loc: Sequence[Union[str, int]]) -> Optional[int]:
    """Line of the key of ``loc`` (for a mapping value that starts on the next line)."""
    parent = root
    for part in loc[:-1]:
        parent = _child(parent, part) if parent is not None else None
    if isinstance(parent, yaml.MappingNode):
        for key_node, _ in parent.value:
            if key_node.value == str(loc[-1]):
                return int(key_node.start_mark.line) + 1
    return line_of(root, loc)


# Root validator messages start with where the problem is (models.SopFile._references_exist).
_WHERE: List[Tuple[re.Pattern[str], Callable[[re.Match[str], Any], Loc]]] = [
    (re.compile(r"^rules\[(\d+)\]"), lambda m, sop: ("rules", int(m[1]))),
    (re.compile(r"^outcomes\.([\w]+)\.ticket"), lambda m, sop: ("outcomes", m[1], "ticket")),
    (re.compile(r"^outcomes\.([\w]+)"), lambda m, sop: ("outcomes", m[1])),
    (
        re.compile(r"^outcomes never reached by a rule: \['([\w]+)'"),
        lambda m, s: ("outcomes", m[1]),
    ),
    (re.compile(r"^slot ([\w]+)"), lambda m, sop: ("slots", _index(sop, "slots", m[1]))),
    (re.compile(r"^derived ([\w]+)"), lambda m, sop: ("derived", _index(sop, "derived", m[1]))),
    (re.compile(r"^duplicate (slot|question|derived) names"), lambda m, sop: (_plural(m[1]),)),
]


def _plural(kind: str) -> str:
    return {"slot": "slots", "question": "questions", "derived": "derived"}[kind]


def _index(raw: Any, section: str, name: str) -> Union[int, str]:
    items = raw.get(section) if isinstance(raw, dict) else None
    for i, item in enumerate(items or []):
        if isinstance(item, dict) and item.get("name") == name:
            return i
    return 0


def _locate(loc: Loc, message: str, raw: Any) -> Loc:
    if loc and loc[0] != "__root__":
        return loc
    for pattern, where in _WHERE:
        found = pattern.search(message)
        if found:
            return tuple(where(found, raw))
    return loc


def _field_name(loc: Loc) -> str:
    text = ""
    for part in loc:
        if part == "__root__":
            continue
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(seluruh file)"


_PYDANTIC_MESSAGES = {
    "field required": "wajib diisi",
    "extra fields not permitted": "kolom ini tidak dikenal (salah ketik?)",
    "none is not an allowed value": "tidak boleh kosong",
    "str type expected": "harus berupa teks",
    "value is not a valid list": "harus berupa daftar (- ...)",
    "value is not a valid dict": "harus berupa pasangan kolom: nilai",
    "invalid date format": "tanggal harus ditulis YYYY-MM-DD",
    "value is not a valid integer": "harus berupa angka",
}


# The schema's own messages (models.py), said for an SOP owner
_SCHEMA_MESSAGES = [
    (re.compile(r"unknown outcome '([^']+)'"), r"hasil '\1' tidak ada di bagian outcomes"),
    (
        re.compile(r"unknown fact '([^']+)'"),
        r"'\1' tidak dikenal: bukan slot, pertanyaan (questions) atau fakta turunan (derived)",
    ),
    (
        re.compile(r"outcomes never reached by a rule: (.*)"),
        r"hasil berikut tidak dipilih aturan mana pun: \1",
    ),
    (re.compile(r"a matcher needs exactly one operator.*"), "tulis tepat satu pembanding"),
]


def _translate(message: str) -> str:
    if message in _PYDANTIC_MESSAGES:
        return _PYDANTIC_MESSAGES[message]
    for pattern, said in _SCHEMA_MESSAGES:
        if pattern.search(message):
            return pattern.sub(said, message)
    return message


def schema_findings(raw: Any, root: Optional[yaml.Node], exc: ValidationError) -> List[Finding]:
    findings = []
    for error in exc.errors():
        loc = _locate(tuple(error["loc"]), error["msg"], raw)
        line = _key_line(root, loc) if loc else None
        findings.append(Finding(line, _field_name(loc), _translate(error["msg"])))
    return findings


# -- readable conditions -------------------------------------------------------------------
def _value_title(sop: SopFile, fact: str, value: Any) -> str:
    for slot in sop.slots:
        if slot.name == fact:
            for option in slot.buttons:
                if option.value == value:
                    return option.title
    for question in sop.questions:
        if question.name == fact:
            if question.kind == "yes_no" and isinstance(value, bool):
                return "Ya" if value else "Tidak"
            for option in question.options:
                if option.value == value:
                    return option.title
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    return str(value)


def _fact_title(sop: SopFile, fact: str) -> str:
    for slot in sop.slots:
        if slot.name == fact:
            return slot.label
    for question in sop.questions:
        if question.name == fact:
            return f'"{question.text.strip()}"'
    return fact


def describe(sop: SopFile, condition: Condition) -> str:
    parts = []
    for fact, m in condition.items():
        name = _fact_title(sop, fact)
        if m.equals is not None:
            parts.append(f"{name} = {_value_title(sop, fact, m.equals)}")
        elif m.in_ is not None:
            titles = " / ".join(_value_title(sop, fact, v) for v in m.in_)
            parts.append(f"{name} salah satu dari: {titles}")
        elif m.not_in is not None:
            titles = " / ".join(_value_title(sop, fact, v) for v in m.not_in)
            parts.append(f"{name} bukan: {titles}")
        elif m.known is not None:
            parts.append(f"{name} {'sudah' if m.known else 'belum'} diketahui")
        else:
            for op, sign in (("gt", ">"), ("gte", "≥"), ("lt", "<"), ("lte", "≤")):
                if getattr(m, op) is not None:
                    parts.append(f"{name} {sign} {getattr(m, op):g}")
    return "; ".join(parts)


# -- reachability ---------------------------------------------------------------------------
_OTHER = "(nilai lain)"  # stands for any value not listed in a not_in matcher


def _sample(m: Matcher) -> Any:
    if m.equals is not None:
        return m.equals
    if m.in_ is not None:
        return m.in_[0]
    if m.not_in is not None:
        return _OTHER
    if m.known is not None:
        return "(contoh)" if m.known else None
    if m.gt is not None:
        return m.gt + 1
    if m.gte is not None:
        return m.gte
    if m.lt is not None:
        return m.lt - 1
    return m.lte


def _values(m: Matcher) -> Optional[List[Any]]:
    if m.equals is not None:
        return [m.equals]
    if m.in_ is not None:
        return list(m.in_)
    return None


def _range(m: Matcher) -> Optional[Tuple[float, bool, float, bool]]:
    """(low, low inclusive, high, high inclusive) of a numeric matcher."""
    inf = float("inf")
    if m.gt is not None:
        return (m.gt, False, inf, False)
    if m.gte is not None:
        return (m.gte, True, inf, False)
    if m.lt is not None:
        return (-inf, False, m.lt, False)
    if m.lte is not None:
        return (-inf, False, m.lte, True)
    return None


def implies(narrow: Matcher, wide: Matcher) -> bool:
    """True when every value matching ``narrow`` matches ``wide`` (False when unsure)."""
    values = _values(narrow)
    if values is not None:
        return all(match(wide, v) is True for v in values)
    if narrow.known is not None or wide.known is not None:
        return narrow.known is not None and narrow.known == wide.known
    if narrow.not_in is not None and wide.not_in is not None:
        return set(wide.not_in) <= set(narrow.not_in)
    a, b = _range(narrow), _range(wide)
    if a is None or b is None:
        return False
    low_ok = a[0] > b[0] or (a[0] == b[0] and (b[1] or not a[1]))
    high_ok = a[2] < b[2] or (a[2] == b[2] and (b[3] or not a[3]))
    return low_ok and high_ok


def covers(earlier: Condition, later: Condition) -> bool:
    """True when ``earlier`` holds whenever ``later`` does: ``later`` is never reached."""
    narrow = dict(later.items())
    return all(fact in narrow and implies(narrow[fact], m) for fact, m in earlier.items())


def impossible(sop: SopFile, condition: Condition) -> List[str]:
    """Conditions on a check question that no answer can meet."""
    problems = []
    for fact, m in condition.items():
        question = next((q for q in sop.questions if q.name == fact), None)
        values = _values(m)
        if question is None or values is None:
            continue
        allowed: List[Any] = (
            [True, False] if question.kind == "yes_no" else [o.value for o in question.options]
        )
        if not any(v in allowed for v in values):
            shown = ", ".join(repr(v) for v in values)
            problems.append(f"{fact} = {shown}: jawaban ini tidak mungkin (pilihan: {allowed})")
    return problems


# -- the check -------------------------------------------------------------------------------
def _today() -> date:
    return datetime.now(agent_timezone()).date()


def _page_findings(sop: SopFile, root: Optional[yaml.Node], today: date) -> List[Finding]:
    found = []
    if sop.expires is not None:
        line = line_of(root, ("expires",))
        if sop.expires < today:
            found.append(
                Finding(
                    line,
                    "expires",
                    f"halaman sudah kedaluwarsa sejak {format_date(sop.expires)}; setiap "
                    "jawaban memberi peringatan ke agent. Minta halaman yang berlaku ke pemilik "
                    "KMS lalu perbarui file ini.",
                )
            )
        elif sop.expires <= today + timedelta(days=EXPIRY_NOTICE_DAYS):
            days = (sop.expires - today).days
            found.append(
                Finding(
                    line,
                    "expires",
                    f"halaman kedaluwarsa {format_date(sop.expires)} ({days} hari lagi); "
                    "siapkan versi barunya.",
                )
            )
    for key, label in (("page_id", "ID halaman (KM...)"), ("version", "versi halaman")):
        if getattr(sop, key) is None:
            found.append(
                Finding(
                    line_of(root, (key,)),
                    key,
                    f"{label} kosong: pastikan halaman memang tidak mencantumkannya.",
                )
            )
    if sop.menu is None:
        found.append(
            Finding(None, "menu", "menu kosong: tombol bantuan dan sapaan tidak bisa dibuat.")
        )
    return found


def _ref_findings(raw: Any, root: Optional[yaml.Node]) -> List[Finding]:
    """Every text shown to the agent keeps the section of the page it comes from."""
    found: List[Finding] = []

    def visit(node: Any, loc: Loc) -> None:
        if isinstance(node, dict):
            if "text" in node or "ask" in node:
                ref = node.get("ref")
                if not isinstance(ref, str) or not ref.strip():
                    found.append(
                        Finding(
                            _key_line(root, loc),
                            _field_name(loc),
                            "teks ini tidak punya rujukan ke bagian halaman ('ref' kosong).",
                        )
                    )
            for key, value in node.items():
                visit(value, loc + (key,))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                visit(value, loc + (i,))

    for section in ("scope_note", "checks", "slots", "questions", "outcomes"):
        if isinstance(raw, dict) and section in raw:
            visit(raw[section], (section,))
    return found


def _placeholder_findings(sop: SopFile, raw: Any, root: Optional[yaml.Node]) -> List[Finding]:
    """A {name} in a text that is no fact of this SOP would always show '[belum diketahui]'."""
    known = (
        {s.name for s in sop.slots}
        | {q.name for q in sop.questions}
        | {d.name for d in sop.derived}
        | {"active_sop"}
    )
    found: List[Finding] = []

    def visit(node: Any, loc: Loc) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("text", "value", "kip", "escalation", "title") and isinstance(
                    value, str
                ):
                    try:
                        names = [n for _, n, _, _ in string.Formatter().parse(value) if n]
                    except ValueError:
                        names = ["{"]
                    unknown = sorted({n for n in names if n not in known})
                    if unknown:
                        found.append(
                            Finding(
                                _key_line(root, loc + (key,)),
                                _field_name(loc + (key,)),
                                f"{', '.join('{' + n + '}' for n in unknown)} bukan slot, "
                                "pertanyaan atau fakta turunan SOP ini: agent akan melihat "
                                "[belum diketahui]. Salah ketik? (Kurung kurawal biasa: {{ }})",
                            )
                        )
                else:
                    visit(value, loc + (key,))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                visit(value, loc + (i,))

    for section in ("outcomes", "ticket_fields"):
        if isinstance(raw, dict) and section in raw:
            visit(raw[section], (section,))
    return found


def _rule_findings(sop: SopFile, root: Optional[yaml.Node]) -> List[Finding]:
    found = []
    live: Dict[str, int] = {name: 0 for name in sop.outcomes}
    for j, rule in enumerate(sop.rules):
        line = line_of(root, ("rules", j))
        problems = impossible(sop, rule.when)
        winner = next((i for i in range(j) if covers(sop.rules[i].when, rule.when)), None)
        for problem in problems:
            found.append(Finding(line, f"rules[{j}].when", problem))
        if winner is not None:
            found.append(
                Finding(
                    line,
                    f"rules[{j}]",
                    f"aturan ini tidak pernah terpakai: aturan di baris "
                    f"{line_of(root, ('rules', winner))} selalu cocok lebih dulu.",
                )
            )
        if winner is None and not problems:
            live[rule.outcome] += 1
    for name, count in live.items():
        if count == 0:
            found.append(
                Finding(
                    _key_line(root, ("outcomes", name)),
                    f"outcomes.{name}",
                    "hasil ini tidak bisa dicapai: tidak ada aturan yang bisa memilihnya.",
                )
            )
    return found


def _branches(sop: SopFile, root: Optional[yaml.Node], now: datetime) -> List[str]:
    engine = SopEngine(sop)
    blocks = []
    for j, rule in enumerate(sop.rules):
        slots = {fact: _sample(m) for fact, m in rule.when.items()}
        facts = engine.facts(slots, now)
        facts.update({k: v for k, v in slots.items() if v is not None})  # derived facts too
        result = engine.outcome_result(rule.outcome, facts, now)
        blocks.append(
            f"Cabang {j + 1} (aturan baris {line_of(root, ('rules', j))}) → hasil "
            f'"{rule.outcome}"\n'
            f"  Bila: {describe(sop, rule.when)}\n"
            "  Jawaban yang dilihat agent:\n" + _indent(result_text(result), "    | ")
        )
        conditional = [
            s.text.strip()
            for s in sop.outcomes[rule.outcome].steps + sop.outcomes[rule.outcome].warnings
            if s.when is not None and s.text.strip() and not _shown(s.text, result_text(result))
        ]
        if conditional:
            blocks[-1] += "\n  Hanya muncul pada kondisi tertentu (tidak tampil di atas):\n"
            blocks[-1] += "\n".join(f"    - {' '.join(t.split())}" for t in conditional)
    fallback = engine.outcome_result(UNCERTAIN_OUTCOME, engine.facts({}, now), now)
    blocks.append(
        f'Bila tidak ada aturan yang cocok → hasil "{UNCERTAIN_OUTCOME}"\n'
        "  Jawaban yang dilihat agent:\n" + _indent(result_text(fallback), "    | ")
    )
    return blocks


def _shown(template: str, text: str) -> bool:
    head = " ".join(template.split())[:40].split("{")[0]
    return bool(head) and head in " ".join(text.split())


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def check_file(path: Path, now: Optional[datetime] = None) -> Report:
    """Validates one SOP file and previews it; never raises on a broken file."""
    now = now or datetime.now(agent_timezone())
    report = Report(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        report.errors.append(Finding(None, "(file)", f"tidak bisa dibaca: {exc.strerror}"))
        return report
    try:
        root = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        report.errors.append(
            Finding(
                line,
                "(penulisan YAML)",
                f"format YAML salah: {problem} (cek indentasi dan tanda kutip)",
            )
        )
        return report
    try:
        sop = SopFile.parse_obj(raw)
    except ValidationError as exc:
        report.errors.extend(schema_findings(raw, root, exc))
        return report
    report.sop = sop
    for i, slot in enumerate(sop.slots):
        if slot.validator not in kinds.KINDS:
            report.errors.append(
                Finding(
                    line_of(root, ("slots", i, "validator")),
                    f"slots[{i}].validator",
                    f"validator '{slot.validator}' tidak dikenal (yang ada: "
                    f"{', '.join(kinds.names())})",
                )
            )
    if path.stem != sop.id:
        report.errors.append(
            Finding(
                line_of(root, ("id",)),
                "id",
                f"id '{sop.id}' harus sama dengan nama file '{path.stem}'",
            )
        )
    report.warnings.extend(_page_findings(sop, root, now.astimezone(agent_timezone()).date()))
    report.warnings.extend(_ref_findings(raw, root))
    report.warnings.extend(_placeholder_findings(sop, raw, root))
    report.warnings.extend(_rule_findings(sop, root))
    report.branches = _branches(sop, root, now)
    return report


def render_report(
    report: Report, extra_errors: Sequence[Finding] = (), extra_warnings: Sequence[Finding] = ()
) -> str:
    errors = list(report.errors) + list(extra_errors)
    warnings = list(report.warnings) + list(extra_warnings)
    lines = [f"Pemeriksaan SOP: {report.path}"]
    sop = report.sop
    if sop is not None:
        lines.append(f"Judul: {sop.title}")
        lines.append(
            f"Halaman: {sop.page} · ID {sop.page_id or '(tidak tercantum)'} · versi "
            f"{sop.version or '(tidak tercantum)'}"
            + (f" · diperbarui {format_date(sop.updated)}" if sop.updated else "")
        )
        lines.append(
            "Berlaku sampai: "
            + (format_date(sop.expires) if sop.expires else "(halaman tidak mencantumkan)")
        )
    verdict = "BISA DIPAKAI" if not errors else "DITOLAK (perbaiki kesalahan di bawah)"
    lines.append(f"Hasil: {verdict}: {len(errors)} kesalahan, {len(warnings)} peringatan")
    if errors:
        lines.append("")
        lines.append("KESALAHAN (file tidak akan dimuat sampai diperbaiki):")
        lines += [f"  ✗ {f.render(report.path)}" for f in errors]
    if warnings:
        lines.append("")
        lines.append("PERINGATAN (file tetap dimuat, tetapi periksa):")
        lines += [f"  ⚠ {f.render(report.path)}" for f in warnings]
    if report.branches:
        lines.append("")
        lines.append(
            f"CABANG: {len(report.branches) - 1} aturan, dicoba berurutan; aturan pertama "
            "yang cocok dipakai. [belum diketahui] di pratinjau adalah nilai yang diisi dari "
            "percakapan (jam, MSISDN, dll.)."
        )
        for block in report.branches:
            lines.append("")
            lines.append(block)
    return "\n".join(lines)
