"""The project's one Indonesian normaliser: slang, vocabulary matching, canonical values.

Shared by the NLU pipeline (the tokenizer's lemmas and the canonical-value component after the
entity extractors, both in nlu_components/) and by the form validators (the slot kinds,
sop_engine/kinds/).
Pure Python: never imports Rasa.

* ``sop_engine/slang.yaml`` is the single slang / abbreviation table ("udh" -> "sudah",
  "gk" -> "tidak", "plg" -> "pelanggan"); ``SlangNormalizer`` applies it to one token the way
  the tokenizer needs it (numbers and codes become shapes), ``words`` to a whole text the way
  the vocabulary matcher needs it.
* ``sop/vocabulary.yaml`` holds the canonical values of the contract (``channel``,
  ``gol_case``, ``callback_case``, ``layanan``, ``imes_product``) and of the project
  (``courier``, ``delivery_type``) with their synonyms; ``vocabulary()`` loads it and
  ``matcher(kind)`` finds its values in free text.
* ``canonical(entity, text)`` maps an extracted entity text to its canonical value. A text
  outside the vocabulary keeps its words and is marked ``known=False``: the NLU component
  writes ``"in_vocabulary": false`` on the entity, and the validators decide what to do.
* ``identifier_entity(entity, value, before)`` re-labels an identifier by its shape and the
  words in front of it (an order ID with letters is not a SID; a number after "trx" is a
  transaction ID).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple

import yaml

SLANG_PATH = Path(__file__).resolve().with_name("slang.yaml")
VOCABULARY_PATH = Path(__file__).resolve().parent.parent / "sop" / "vocabulary.yaml"

# --------------------------------------------------------------------------- token level

# Indonesian digit words, read by the amount parser (kinds/nominal.py) and the date/time
# parser ("dua hari lalu", timeparse.py)
DIGIT_WORDS: Mapping[str, int] = {
    "nol": 0,
    "satu": 1,
    "dua": 2,
    "tiga": 3,
    "empat": 4,
    "lima": 5,
    "enam": 6,
    "tujuh": 7,
    "delapan": 8,
    "sembilan": 9,
}

# unit suffixes glued to a number: "100k", "1jt", "3sore", "2hr", "3x"
UNITS = {
    "k": "ribu",
    "rb": "ribu",
    "rbu": "ribu",
    "ribu": "ribu",
    "jt": "juta",
    "jta": "juta",
    "juta": "juta",
    "gb": "gb",
    "mb": "mb",
    "hr": "hari",
    "hari": "hari",
    "jam": "jam",
    "mnt": "menit",
    "menit": "menit",
    "pagi": "pagi",
    "siang": "siang",
    "sore": "sore",
    "malam": "malam",
    "mlm": "malam",
    "x": "kali",
    "an": "an",
}
_NUMBER_UNIT = re.compile(r"^(\d+(?:[.,]\d+)?)([a-z]+)$")
_NUMBER = re.compile(r"^[.,]?\d[\d.,:]*$")
_ELONGATION = re.compile(r"([a-z])\1{2,}")
_REDUPLICATION = re.compile(r"^([a-z]{2,})2$")
_CODE = re.compile(r"^(?=.*\d)(?=.*[a-z])[a-z0-9@._%+/-]{5,}$")


def number_shape(text: str) -> str:
    """Lemma of a number: short numbers stay, long ones become a length class.

    "50" -> "50", "50000" -> "numlen5", "4861675" -> "numlen7", "835221950" -> "numlen9",
    "2026112212345678901" -> "numlen13"; with separators the shape keeps them:
    "50.000" -> "dd.ddd", "14.30" -> "dd.dd". CountVectorsFeaturizer replaces pure digits by
    __NUMBER__ anyway, so the length (SID vs account number vs nominal) would be lost.
    """
    stripped = text.strip(".,:")
    if stripped.isdigit():
        n = len(stripped)
        if n <= 4:
            return stripped
        return (
            "numlen5" if n <= 6 else "numlen7" if n <= 8 else "numlen9" if n <= 12 else "numlen13"
        )
    return re.sub(r"\d", "d", stripped)


def code_shape(text: str) -> str:
    """Lemma of an ID / code mixing letters and digits: digit runs become "0".

    "MT23112214520012" -> "mt0", "gol-2311-88812" -> "gol-0-0": the featurizers see the
    shape of a transaction or order ID instead of thousands of random digit n-grams.
    """
    return re.sub(r"\d+", "0", text.lower())


def load_slang(path: Optional[Path] = None) -> Tuple[Dict[str, str], FrozenSet[str]]:
    """Reads the slang map and the "-nya" stems from a YAML file (default: slang.yaml)."""
    data = yaml.safe_load(Path(path or SLANG_PATH).read_text(encoding="utf-8")) or {}
    slang = {str(k).lower(): str(v).lower() for k, v in (data.get("slang") or {}).items()}
    for key, value in slang.items():
        if not value.strip():
            raise ValueError(f"slang map entry {key!r} maps to an empty string")
    stems = frozenset(str(s).lower() for s in (data.get("nya_stems") or []))
    return slang, stems


class SlangNormalizer:
    """Maps one token text to its normalised, lower-cased form (never empty)."""

    def __init__(
        self,
        slang: Mapping[str, str],
        nya_stems: Iterable[str] = (),
        extra: Optional[Mapping[str, Any]] = None,
    ) -> None:
        self.slang = dict(slang)
        if extra:
            self.slang.update({str(k).lower(): str(v).lower() for k, v in extra.items()})
        self.nya_stems = frozenset(nya_stems)

    @classmethod
    def from_file(
        cls, path: Optional[Path] = None, extra: Optional[Mapping[str, Any]] = None
    ) -> SlangNormalizer:
        slang, stems = load_slang(path)
        return cls(slang, stems, extra)

    def word(self, text: str) -> str:
        """Normalises a single word (no protected-span logic)."""
        lowered = text.lower()
        if lowered in self.slang:
            return self.slang[lowered]
        if _NUMBER.match(lowered):
            return number_shape(lowered)
        collapsed = _ELONGATION.sub(r"\1", lowered)
        if collapsed in self.slang:
            return self.slang[collapsed]
        match = _NUMBER_UNIT.match(collapsed)
        if match and match.group(2) in UNITS:
            return f"{re.sub(r'[^0-9]', '', match.group(1))} {UNITS[match.group(2)]}"
        match = _REDUPLICATION.match(collapsed)
        if match:
            return self.word(match.group(1))
        if _CODE.match(lowered):
            return code_shape(lowered)
        if collapsed.endswith("nya") and collapsed[:-3] in self.nya_stems:
            return self.word(collapsed[:-3])
        return collapsed

    def compound(self, text: str) -> str:
        """Normalises letters/digits joined by '-', '_' or '/'."""
        lowered = text.lower()
        if lowered in self.slang:
            return self.slang[lowered]
        parts = [p for p in re.split(r"[-_/]", lowered) if p]
        if any(ch.isdigit() for ch in lowered):
            return code_shape(lowered)  # an ID / a date: one code, digits as "0"
        joined = "".join(parts)
        if joined in self.slang:
            return self.slang[joined]
        if len(parts) == 2 and parts[0] == parts[1]:  # reduplication: abu-abu, kartu-kartu
            return self.word(parts[0])
        return " ".join(self.word(p) for p in parts)

    def match_word(self, token: str) -> str:
        """A word as the vocabulary matcher compares it: slang and elongation, no shapes."""
        if token in self.slang:
            return self.slang[token]
        collapsed = _ELONGATION.sub(r"\1", token)
        if collapsed in self.slang:
            return self.slang[collapsed]
        if collapsed.endswith("nya") and collapsed[:-3] in self.nya_stems:
            stem = collapsed[:-3]
            return self.slang.get(stem, stem)
        return collapsed


@functools.lru_cache(maxsize=1)
def normalizer() -> SlangNormalizer:
    """The project's slang normaliser (sop_engine/slang.yaml), loaded once."""
    return SlangNormalizer.from_file(SLANG_PATH)


def load_phrases(path: Optional[Path] = None) -> Dict[str, str]:
    """The ``phrases`` of slang.yaml: several words that mean one ("baru saja" -> "tadi")."""
    data = yaml.safe_load(Path(path or SLANG_PATH).read_text(encoding="utf-8")) or {}
    phrases = {}
    for key, value in (data.get("phrases") or {}).items():
        words_of_key = str(key).lower().split()
        if len(words_of_key) < 2 or not str(value).strip():
            raise ValueError(f"slang phrase {key!r}: needs two words or more and a value")
        phrases[" ".join(words_of_key)] = str(value).lower()
    return phrases


@dataclass(frozen=True)
class SpellingRewriter:
    """Rewrites, in a lower-case text, the spellings of a set of words to their normal form."""

    tokens: Optional[re.Pattern[str]]
    table: Mapping[str, str]
    phrases: Tuple[Tuple[re.Pattern[str], str], ...]

    def __call__(self, text: str) -> str:
        if self.tokens is not None:
            text = self.tokens.sub(lambda m: self.table[m.group(0)], text)
        for pattern, value in self.phrases:
            text = pattern.sub(value, text)
        return text


@functools.lru_cache(maxsize=8)
def spelling_rewriter(targets: FrozenSet[str]) -> SpellingRewriter:
    """The slang.yaml spellings (words, then phrases) of every word in ``targets``.

    For text-level parsers with a grammar of their own (sop_engine/timeparse.py): they name
    the words their grammar knows; how agents spell those words comes from the one table.
    """
    slang, _stems = load_slang(SLANG_PATH)
    table = {k: v for k, v in slang.items() if v in targets and k != v}
    tokens = None
    if table:
        alternation = "|".join(re.escape(k) for k in sorted(table, key=len, reverse=True))
        tokens = re.compile(rf"\b(?:{alternation})\b")
    phrases = tuple(
        (re.compile(r"\b" + r"\s+".join(re.escape(w) for w in phrase.split()) + r"\b"), value)
        for phrase, value in sorted(load_phrases().items(), key=lambda kv: -len(kv[0]))
        if value in targets
    )
    return SpellingRewriter(tokens, table, phrases)


_NON_WORD = re.compile(r"[^a-z0-9&]+")


def words(text: str, slang: Optional[Mapping[str, str]] = None) -> str:
    """Lower case, punctuation -> spaces, slang expanded: the form vocabulary matching uses.

    ``slang`` replaces the project table (tests); by default sop_engine/slang.yaml applies.
    """
    text = unicodedata.normalize("NFKC", text).lower().replace("&", " & ")
    tokens = _NON_WORD.sub(" ", text).split()
    if slang is not None:
        return " ".join(slang.get(token, token) for token in tokens)
    norm = normalizer()
    return " ".join(norm.match_word(token) for token in tokens)


# --------------------------------------------------------------------------- vocabulary


@dataclass(frozen=True)
class Term:
    value: str
    label: str
    synonyms: Tuple[str, ...]


@dataclass(frozen=True)
class Vocabulary:
    slang: Mapping[str, str]
    channels: Tuple[Term, ...]
    channel_groups: Mapping[str, str]  # canonical channel -> non_fintech | fintech | app
    couriers: Tuple[Term, ...]
    delivery_types: Tuple[Term, ...]
    layanan: Tuple[Term, ...]
    imes_products: Tuple[Term, ...]
    gol_cases: Tuple[Term, ...]
    callback_cases: Tuple[Term, ...]
    email_domain_typos: Mapping[str, str]


def _terms(data: Any, where: str) -> Tuple[Term, ...]:
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{VOCABULARY_PATH}: '{where}' must be a non-empty mapping")
    terms: List[Term] = []
    for value, entry in data.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("label"), str):
            raise ValueError(f"{VOCABULARY_PATH}: '{where}.{value}' needs a string 'label'")
        synonyms = entry.get("synonyms") or []
        if not isinstance(synonyms, list) or not all(isinstance(s, str) for s in synonyms):
            raise ValueError(f"{VOCABULARY_PATH}: '{where}.{value}.synonyms' must be strings")
        terms.append(Term(str(value), entry["label"], tuple(synonyms)))
    return tuple(terms)


def _str_map(data: Any, where: str) -> Dict[str, str]:
    if not isinstance(data, dict):
        raise ValueError(f"{VOCABULARY_PATH}: '{where}' must be a mapping")
    return {str(k): str(v) for k, v in data.items()}


@functools.lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """sop/vocabulary.yaml, loaded and checked once; slang from sop_engine/slang.yaml."""
    with VOCABULARY_PATH.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{VOCABULARY_PATH}: top level must be a mapping")
    if "slang" in data:
        # one slang table for the whole project
        raise ValueError(f"{VOCABULARY_PATH}: 'slang' belongs in {SLANG_PATH}")
    groups = data.get("channels")
    if not isinstance(groups, dict) or set(groups) != {"non_fintech", "fintech", "app"}:
        raise ValueError(f"{VOCABULARY_PATH}: 'channels' needs groups non_fintech, fintech, app")
    channels: List[Term] = []
    channel_groups: Dict[str, str] = {}
    for group, entries in groups.items():
        for term in _terms(entries, f"channels.{group}"):
            channels.append(term)
            channel_groups[term.value] = str(group)
    return Vocabulary(
        slang=dict(normalizer().slang),
        channels=tuple(channels),
        channel_groups=channel_groups,
        couriers=_terms(data.get("couriers"), "couriers"),
        delivery_types=_terms(data.get("delivery_types"), "delivery_types"),
        layanan=_terms(data.get("layanan"), "layanan"),
        imes_products=_terms(data.get("imes_products"), "imes_products"),
        gol_cases=_terms(data.get("gol_cases"), "gol_cases"),
        callback_cases=_terms(data.get("callback_cases"), "callback_cases"),
        email_domain_typos=_str_map(data.get("email_domain_typos", {}), "email_domain_typos"),
    )


# digits typed for the letters they look like, in a word that has letters: "0v0", "g0pay"
_LOOKALIKE_DIGITS = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s"}
_LOOKALIKES = re.compile(r"^(?=.*[a-z])[a-z0-9]*[0-9][a-z0-9]*$")


def _unlookalike(match: re.Match[str]) -> str:
    return "".join(_LOOKALIKE_DIGITS.get(ch, ch) for ch in match.group(0))


def one_edit_apart(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by exactly one edit: one letter inserted, deleted or
    replaced, or two neighbouring letters swapped (optimal string alignment distance 1)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(shorter) and shorter[i] == longer[i]:
        i += 1
    return shorter[i:] == longer[i + 1 :]


class Matcher:
    """Finds canonical values of a term list in free text, in order of appearance."""

    def __init__(self, terms: Sequence[Term], slang: Optional[Mapping[str, str]] = None) -> None:
        self._slang = slang
        self.terms = {t.value: t for t in terms}
        by_key: Dict[str, str] = {}  # synonym with its spaces removed -> canonical value
        forms: Dict[str, None] = {}
        for term in terms:
            for name in (term.value.replace("_", " "), term.label, *term.synonyms):
                normal = words(name, slang)
                if not normal:
                    continue
                key = normal.replace(" ", "")
                if by_key.setdefault(key, term.value) != term.value:
                    raise ValueError(
                        f"{VOCABULARY_PATH}: synonym {name!r} is used for both "
                        f"{by_key[key]!r} and {term.value!r}"
                    )
                forms[normal] = None
        self._by_key = by_key
        self.single_words = sorted(k for k in by_key if len(k) >= 4)
        # Longest first so that "shopee pay" wins over "shopee"; the words of a synonym may be
        # written together or apart ("m kios" matches "mkios").
        alternatives = sorted(forms, key=lambda f: len(f.replace(" ", "")), reverse=True)
        pattern = "|".join(r"\s*".join(map(re.escape, f.split())) for f in alternatives)
        self._regex = re.compile(rf"(?<![a-z0-9])(?:{pattern})(?![a-z0-9])")

    def find(self, text: str) -> List[str]:
        found: List[str] = []
        for m in self._regex.finditer(words(text, self._slang)):
            value = self._by_key[m.group(0).replace(" ", "")]
            if value not in found:
                found.append(value)
        return found

    def find_misspelled(self, text: str, min_length: int = 6) -> List[str]:
        """Values named with one typo ("kredifo", "jenuis"), digits for letters ("0v0") or a
        one-word name split in two ("link aja"): one edit (a letter added, dropped, changed,
        or two swapped) from a one-word synonym of ``min_length`` letters or more."""
        tokens = words(text, self._slang).split()
        candidates = list(tokens) + [a + b for a, b in zip(tokens, tokens[1:], strict=False)]
        found: List[str] = []
        for token in candidates:
            plain = _LOOKALIKES.sub(_unlookalike, token)
            if token in self._by_key:
                # a key typed as it is: the extractors' business; two words joined: a split name
                value = self._by_key[token] if token not in tokens else None
            elif plain != token and plain in self._by_key and len(plain) >= 3:
                value = self._by_key[plain]
            else:
                value = self._nearest_key(plain, min_length)
            if value is not None and value not in found:
                found.append(value)
        return found

    def _nearest_key(self, token: str, min_length: int) -> Optional[str]:
        if len(token) < min_length - 1 or not token.isalpha():
            return None
        values = {
            self._by_key[key]
            for key in self.single_words
            if len(key) >= min_length
            and abs(len(key) - len(token)) <= 1
            and one_edit_apart(token, key)
        }
        return values.pop() if len(values) == 1 else None

    def lookup(self, key: str) -> str:
        return self._by_key[key]

    def labels(self, values: Sequence[str]) -> str:
        return ", ".join(self.terms[v].label for v in values)


@functools.cache
def matcher(kind: str) -> Matcher:
    """Matcher of one vocabulary list ("channels", "gol_cases", ...)."""
    terms: Tuple[Term, ...] = getattr(vocabulary(), kind)
    return Matcher(terms)


# --------------------------------------------------------------------------- canonical values

# entity name -> vocabulary list of its canonical values
CANONICAL_ENTITIES: Dict[str, str] = {
    "channel": "channels",
    "gol_case": "gol_cases",
    "callback_case": "callback_cases",
    "layanan": "layanan",
    "imes_product": "imes_products",
    "courier": "couriers",
    "delivery_type": "delivery_types",
}


@dataclass(frozen=True)
class Canonical:
    value: str  # canonical value, or the text as written (whitespace collapsed) when unknown
    known: bool  # False: outside sop/vocabulary.yaml, kept as written
    others: Tuple[str, ...] = ()  # further canonical values in the same text ("gopay di mytsel")


def canonical(entity: str, text: str) -> Optional[Canonical]:
    """Canonical value of an extracted entity text; None when ``entity`` has no vocabulary.

    A text that already is a canonical value stays; otherwise the first vocabulary value found
    in the text wins (the rest go to ``others``); a text with none keeps its words, marked
    ``known=False``.
    """
    kind = CANONICAL_ENTITIES.get(entity)
    if kind is None:
        return None
    m = matcher(kind)
    stripped = " ".join(str(text).split())
    if stripped in m.terms:
        return Canonical(stripped, True)
    found = m.find(stripped) or m.find(_without_nya(stripped))
    if found:
        return Canonical(found[0], True, tuple(found[1:]))
    return Canonical(stripped, False)


def _without_nya(text: str) -> str:
    """ "internetnya", "kartunya" -> "internet", "kartu" (the stem keeps at least 4 letters)."""
    return " ".join(
        w[:-3] if w.lower().endswith("nya") and len(w) >= 7 else w for w in text.split()
    )


def canonical_values(entity: str) -> Tuple[str, ...]:
    kind = CANONICAL_ENTITIES.get(entity)
    return tuple(matcher(kind).terms) if kind else ()


# --------------------------------------------------------------------------- identifiers

IDENTIFIER_ENTITIES = ("order_id", "sid", "account_number", "transaction_id")

# the words in front of a value name its kind; the nearest label wins
_LABELS: Tuple[Tuple[str, re.Pattern[str]], ...] = (
    (
        "transaction_id",
        re.compile(
            r"(?:\b(?:id|no|nomor|kode)\s*\.?\s*(?:transaksi|trx|trans)|\btrx\s*id|\btrxid"
            r"|\btrx|\btransaction\s*id|\btransaksi|\bref(?:erence|erensi)?(?:\s*(?:no|id))?"
            r"|\bno\s*\.?\s*ref)\s*[:#.=]?\s*$"
        ),
    ),
    (
        "order_id",
        re.compile(
            r"(?:\border\s*id|\bid\s*order|\bno\s*\.?\s*order|\border|\bid\s*pesanan"
            r"|\bno(?:mor)?\s*\.?\s*pesanan|\bpesanan|\boid)\s*[:#.=]?\s*$"
        ),
    ),
    (
        "account_number",
        re.compile(
            r"(?:\bakun|\baccount(?:\s*(?:number|no))?|\bacc(?:ount)?\s*no|\bacc|\bno\s*\.?\s*akun"
            r"|\bnomor\s*akun|\bban|\bno\s*\.?\s*tagihan)\s*[:#.=]?\s*$"
        ),
    ),
    ("sid", re.compile(r"(?:\bsid|\bservice\s*id|\bno\s*\.?\s*sid)\s*[:#.=]?\s*$")),
)
_HAS_LETTER = re.compile(r"[A-Za-z]")


def identifier_entity(entity: str, value: str, before: str) -> str:
    """The identifier entity a value should carry, from its label in front and its shape.

    ``before``: the message text in front of the value (only its end is read). A label right
    before the value decides ("trx 8812..." -> transaction_id, "akun 441122" ->
    account_number); without one, a SID / account number with letters or "/" is an order ID.
    """
    if entity not in IDENTIFIER_ENTITIES:
        return entity
    tail = before[-40:].lower()
    for name, pattern in _LABELS:
        if pattern.search(tail):
            return name
    if entity in ("sid", "account_number") and (_HAS_LETTER.search(value) or "/" in value):
        return "order_id"
    return entity


# --------------------------------------------------------------------------- masking

_MASK_EMAIL = re.compile(r"([A-Za-z0-9._%+'-]+)@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_MASK_SN = re.compile(r"(?<!\d)(02\d{4})\d{15}(\d{4})(?!\d)")
_MASK_MSISDN = re.compile(r"(?<![\w+])((?:\+?62|0)[ -]?8\d{2})((?:[ .-]?\d){4,9})(\d{3})(?!\d)")


def mask_text(text: str) -> str:
    """Masks e-mail addresses, recharge serial numbers and MSISDNs in free text (reports).

    "budi.s@gmail.com" -> "b***@gmail.com", "0812 3456 7890" -> "0812*****890",
    a 25-digit SN keeps its first 6 and last 4 digits.
    """
    text = _MASK_EMAIL.sub(lambda m: f"{m.group(1)[:1]}***@{m.group(2)}", text)
    text = _MASK_SN.sub(lambda m: m.group(1) + "*" * 15 + m.group(2), text)
    return _MASK_MSISDN.sub(
        lambda m: m.group(1) + re.sub(r"\d", "*", m.group(2)) + m.group(3), text
    )


# a code after its label: "id transaksi DN2311250099871", "order id: GRP-2411-000871"
_CODE_AFTER = r"\s*[:#.=]?\s*([A-Za-z0-9](?:[A-Za-z0-9/_-]*[A-Za-z0-9])?)"
_LABELLED: Tuple[Tuple[str, re.Pattern[str]], ...] = (
    (
        "transaction_id",
        re.compile(
            r"\b(?:id\s*transaksi|no\.?\s*transaksi|kode\s*transaksi|trx\s*id|trxid|trx"
            r"|transaction\s*id|ref(?:erence)?(?:\s*no)?|no\.?\s*ref)" + _CODE_AFTER,
            re.IGNORECASE,
        ),
    ),
    (
        "order_id",
        re.compile(
            r"\b(?:order\s*id|id\s*order|id\s*pesanan|no(?:mor)?\.?\s*pesanan|no\.?\s*order"
            r"|oid)" + _CODE_AFTER,
            re.IGNORECASE,
        ),
    ),
    (
        "account_number",
        re.compile(r"\b(?:akun|account\s*number|acc(?:ount)?\s*no)" + _CODE_AFTER, re.IGNORECASE),
    ),
    ("sid", re.compile(r"\b(?:sid|service\s*id)" + _CODE_AFTER, re.IGNORECASE)),
)


def labelled_identifiers(text: str) -> List[Tuple[str, int, int]]:
    """(entity, start, end) of identifiers written right after their label.

    Only codes with at least 5 characters and a digit count ("trx DN2311250099871", "akun
    441122"); the words themselves ("id transaksi nya belum ada") are not identifiers.
    """
    found: List[Tuple[str, int, int]] = []
    for name, pattern in _LABELLED:
        for match in pattern.finditer(text):
            code = match.group(1)
            if len(code) < 5 or not any(ch.isdigit() for ch in code):
                continue
            if name in ("sid", "account_number") and not re.fullmatch(r"\d+(?:-\d+)?", code):
                continue
            start, end = match.span(1)
            if not any(s < end and start < e for _, s, e in found):
                found.append((name, start, end))
    return found


# shortest letters+digits of each identifier the validators accept (sop_engine/kinds/)
_MIN_IDENTIFIER_LENGTH = {"sid": 6, "account_number": 5, "order_id": 6, "transaction_id": 8}


def identifier_too_short(entity: str, value: str) -> bool:
    """True for an identifier shorter than any the form would accept ("sid 11")."""
    minimum = _MIN_IDENTIFIER_LENGTH.get(entity)
    return minimum is not None and len(re.sub(r"[^0-9A-Za-z]", "", value)) < minimum
