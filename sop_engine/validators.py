"""Pure validators for the form slots: text in -> Valid(normalised value) | Invalid(reason).

No Rasa imports and no I/O apart from reading sop/vocabulary.yaml once (canonical values and
synonyms). Reasons are short Indonesian sentences for the agent: what is wrong and what to ask
the customer. Values are JSON-serialisable (str, int or list of str).

Entry point for the forms: ``validate(name, raw, now)``; single validators are in
``VALIDATORS`` (every one takes ``(text, now)``) and are also exported as ``validate_<name>``.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from dateutil.relativedelta import relativedelta

from sop_engine import normaliser
from sop_engine.timeparse import (
    DAYPART_RANGES,
    agent_timezone,
    parse_indonesian_datetime,
    zone_label,
)

VOCABULARY_PATH = normaliser.VOCABULARY_PATH
MAX_TEXT_LENGTH = 500


@dataclass(frozen=True)
class Valid:
    value: Any  # JSON-serialisable normalised value (str, int, list[str])
    note: Optional[str] = None  # optional Indonesian note for the agent


@dataclass(frozen=True)
class Invalid:
    reason: str  # Indonesian: what is wrong and what to ask the customer


ValidationResult = Union[Valid, Invalid]

# Indonesian name of each slot, used in the generic reasons.
FIELD_LABELS: Dict[str, str] = {
    "msisdn": "nomor MSISDN",
    "nominal": "nominal isi ulang",
    "channel": "channel",
    "serial_number": "serial number (SN)",
    "transaction_id": "ID transaksi",
    "email": "alamat email",
    "order_id": "order ID GraPARI Online",
    "sid": "SID",
    "account_number": "account number",
    "courier": "kurir",
    "delivery_type": "jenis pengiriman",
    "layanan": "layanan yang tidak bisa digunakan",
    "imes_product": "produk IMES",
    "gol_case": "kasus GraPARI Online",
    "callback_case": "kriteria callback",
    "event_time": "waktu kejadian",
    "event_hour": "jam kejadian",
}


# --------------------------------------------------------------------------- text cleaning

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"))


def _clean_text(text: str) -> str:
    """Drop zero-width/format/control characters (NUL included), NFKC, collapse spaces."""
    text = unicodedata.normalize("NFKC", text.translate(_INVISIBLE))  # NBSP -> space
    chars: List[str] = []
    for ch in text:
        if ch in "\t\n\r\x0b\x0c":
            chars.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co"):
            continue
        else:
            chars.append(ch)
    return " ".join("".join(chars).split())


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _prepare(text: str, field: str) -> Union[str, Invalid]:
    """Cleaned text, or Invalid when it is empty, too long or holds no letter/digit."""
    label = FIELD_LABELS[field]
    if len(text) > MAX_TEXT_LENGTH * 4:  # cheap guard before cleaning huge input
        return Invalid(
            f"Teks terlalu panjang ({len(text)} karakter, maksimal {MAX_TEXT_LENGTH}). "
            f"Tulis {label} saja."
        )
    cleaned = _clean_text(text)
    if not cleaned:
        return Invalid(f"{_capitalise(label)} masih kosong. Tanyakan {label} ke pelanggan.")
    if len(cleaned) > MAX_TEXT_LENGTH:
        return Invalid(
            f"Teks terlalu panjang ({len(cleaned)} karakter, maksimal {MAX_TEXT_LENGTH}). "
            f"Tulis {label} saja."
        )
    if not any(ch.isalnum() for ch in cleaned):
        return Invalid(
            f"Isian {label} tidak berisi huruf atau angka. Tanyakan ulang {label} ke pelanggan."
        )
    return cleaned


def _rupiah(amount: float) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp{abs(int(round(amount))):,}".replace(",", ".")


# --------------------------------------------------------------------------- vocabulary

# Vocabulary and matching live in the shared normaliser (also used by the NLU pipeline).
Term = normaliser.Term
Vocabulary = normaliser.Vocabulary
vocabulary = normaliser.vocabulary
_Matcher = normaliser.Matcher
_matcher = normaliser.matcher
_words = normaliser.words


# --------------------------------------------------------------------------- MSISDN


def mask_msisdn(msisdn: str) -> str:
    """ "081234567890" -> "0812****7890" (digits kept at both ends, the middle masked)."""
    if len(msisdn) > 8:
        return msisdn[:4] + "*" * (len(msisdn) - 8) + msisdn[-4:]
    if len(msisdn) > 4:
        return msisdn[:2] + "*" * (len(msisdn) - 4) + msisdn[-2:]
    return "*" * len(msisdn)


_PHONE_CHUNK = re.compile(r"\+?\d[\d\s().\-/]*\d|\+?\d")


def _phone_groups(text: str) -> List[str]:
    """Digit groups that look like separate numbers ("+62 812-3456-7890 / 0813 ...")."""
    groups: List[str] = []
    for chunk in _PHONE_CHUNK.finditer(text):
        current = ""
        for part in re.findall(r"\+?\d+", chunk.group(0)):
            digits = part.lstrip("+")
            starts_number = part.startswith("+") or digits.startswith(("0", "62"))
            if len(current.lstrip("+")) >= 10 and starts_number:
                groups.append(current)
                current = part
            else:
                current += digits if current else part
        if current:
            groups.append(current)
    return groups


def _normalise_msisdn(group: str) -> str:
    plus = group.startswith("+")
    digits = group.lstrip("+")
    if digits.startswith("00"):
        digits, plus = digits[2:], True
    if digits.startswith("62"):
        digits = "0" + digits[2:]
        if digits.startswith("00"):  # "+62 0812..."
            digits = digits[1:]
    elif plus:
        return "+" + digits
    elif digits.startswith("8"):
        digits = "0" + digits
    return digits


def _check_msisdn(number: str) -> ValidationResult:
    masked = mask_msisdn(number.lstrip("+"))
    if number.startswith("+"):
        return Invalid(
            f"Nomor +{masked} bukan nomor Indonesia (+62). Minta nomor Telkomsel pelanggan "
            "yang diawali 08 atau 628."
        )
    if not number.startswith("0"):
        return Invalid(
            f"{masked} bukan format nomor HP. Minta nomor Telkomsel pelanggan yang diawali "
            "08 atau 628 (contoh 0812xxxxxxxx)."
        )
    if not number.startswith("08"):
        return Invalid(
            f"Nomor {masked} adalah nomor telepon rumah/kantor, bukan nomor HP (harus diawali "
            "08). Minta nomor Telkomsel pelanggan yang bermasalah."
        )
    if len(number) < 10:
        return Invalid(
            f"Nomor HP terlalu pendek ({len(number)} digit; seharusnya 10-13 digit). "
            "Minta pelanggan menyebutkan ulang nomornya."
        )
    if len(number) > 13:
        return Invalid(
            f"Nomor HP terlalu panjang ({len(number)} digit; seharusnya 10-13 digit). "
            "Minta pelanggan menyebutkan ulang nomornya."
        )
    return Valid(number)


def validate_msisdn(text: str) -> ValidationResult:
    """08..., 628..., +62 8... with spaces/dashes/dots/parentheses, also inside a sentence."""
    cleaned = _prepare(text, "msisdn")
    if isinstance(cleaned, Invalid):
        return cleaned
    groups = _phone_groups(cleaned)
    if not groups:
        return Invalid(
            "Tidak ada nomor HP di teks ini. Tanyakan nomor Telkomsel pelanggan yang "
            "bermasalah (contoh 0812xxxxxxxx)."
        )
    results = [_check_msisdn(_normalise_msisdn(g)) for g in groups]
    valid_numbers = list(dict.fromkeys(r.value for r in results if isinstance(r, Valid)))
    if len(valid_numbers) == 1:
        return Valid(valid_numbers[0])
    if len(valid_numbers) > 1:
        listed = " dan ".join(mask_msisdn(n) for n in valid_numbers)
        return Invalid(
            f"Ada {len(valid_numbers)} nomor berbeda ({listed}). Tanyakan ke pelanggan nomor "
            "mana yang bermasalah, lalu tulis satu nomor saja."
        )
    longest = max(range(len(groups)), key=lambda i: len(groups[i]))
    return results[longest]


# --------------------------------------------------------------------------- nominal

_UNITS = {
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
_SE_SMALL = {"sepuluh": 10, "sebelas": 11, "seratus": 100}
_SE_BIG = {"seribu": 1_000, "sejuta": 1_000_000}
_SCALE_SMALL = {"puluh": 10, "ratus": 100}
_SCALE_BIG = {
    "ribu": 1_000,
    "rb": 1_000,
    "rebu": 1_000,
    "ribuan": 1_000,
    "k": 1_000,
    "juta": 1_000_000,
    "jt": 1_000_000,
    "jeti": 1_000_000,
}
_NUMBER_WORDS = (
    set(_UNITS) | set(_SE_SMALL) | set(_SE_BIG) | set(_SCALE_SMALL) | set(_SCALE_BIG)
) | {"belas", "setengah"}
_NUMBER_TOKEN = re.compile(r"\d+(?:[.,]\d+)*")


class _NominalError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _parse_digits(token: str, scaled: bool) -> float:
    """'50.000' -> 50000; '1,5' before 'juta' -> 1.5; raises _NominalError when unclear."""
    groups = re.split(r"[.,]", token)
    if len(groups) == 1:
        return float(token)
    tail_ok = all(len(g) == 3 for g in groups[1:])
    if tail_ok and len(groups[0]) <= 3:
        return float("".join(groups))  # thousands separators
    if all(len(g) == 3 for g in groups[1:-1]) and len(groups[0]) <= 3:
        # decimal part after the last separator: "1,5" (juta), "50.000,00" (sen)
        whole = "".join(groups[:-1])
        if scaled or len(groups[-1]) <= 2:
            return float(f"{whole}.{groups[-1]}")
    raise _NominalError(
        f"Format angka '{token}' tidak jelas. Tulis misalnya 50000, 50.000 atau 50rb, lalu "
        "pastikan nominal ke pelanggan."
    )


def _phrase_value(tokens: Sequence[str]) -> float:
    total = 0.0
    small = 0.0
    pending: Optional[float] = None
    for i, token in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if _NUMBER_TOKEN.fullmatch(token):
            pending = (pending or 0.0) + _parse_digits(token, nxt in _SCALE_BIG)
        elif token in _UNITS:
            pending = (pending or 0.0) + _UNITS[token]
        elif token == "setengah":
            pending = (pending or 0.0) + 0.5
        elif token in _SE_SMALL:
            small += _SE_SMALL[token]
        elif token in _SE_BIG:
            total += _SE_BIG[token]
        elif token == "belas":
            small += (pending or 0.0) + 10
            pending = None
        elif token in _SCALE_SMALL:
            small += (pending if pending is not None else 1.0) * _SCALE_SMALL[token]
            pending = None
        elif token in _SCALE_BIG:
            amount = small + (pending or 0.0)
            total += (amount if amount else 1.0) * _SCALE_BIG[token]
            small, pending = 0.0, None
    return total + small + (pending or 0.0)


def _nominal_phrases(text: str) -> List[List[str]]:
    """Runs of number tokens; a digit token after a complete number starts a new run."""
    phrases: List[List[str]] = []
    current: List[str] = []
    for token in re.findall(r"\d+(?:[.,]\d+)*|[a-z]+", text):
        is_digits = bool(_NUMBER_TOKEN.fullmatch(token))
        if is_digits or token in _NUMBER_WORDS:
            if is_digits and current and _NUMBER_TOKEN.fullmatch(current[-1]):
                if len(token) == 3 and token.isdigit():  # "50 000": space as separator
                    current[-1] += token
                    continue
                phrases.append(current)
                current = []
            elif is_digits and current and current[-1] in _SCALE_BIG and len(current) > 1:
                # "1 jt 500 rb" keeps going, but "50rb 100rb" are two amounts
                if any(t in _SCALE_BIG and _SCALE_BIG[t] <= 1_000 for t in current):
                    phrases.append(current)
                    current = []
            current.append(token)
        elif current:
            phrases.append(current)
            current = []
    if current:
        phrases.append(current)
    # A scale word alone ("ribu", "k") is no amount.
    return [p for p in phrases if any(t not in _SCALE_BIG and t not in _SCALE_SMALL for t in p)]


def validate_nominal(text: str) -> ValidationResult:
    """'50rb', 'Rp 50.000', '100k', 'seratus ribu', '1,5 juta', 'sejuta' -> int rupiah."""
    cleaned = _prepare(text, "nominal")
    if isinstance(cleaned, Invalid):
        return cleaned
    lowered = cleaned.lower()
    lowered = re.sub(r"\b(?:rp|idr)\.?\s*|\brupiah\b", " ", lowered)
    if re.search(r"(?:^|[\s(:=])-\s*\d|\bminus\b", lowered):
        return Invalid(
            "Nominal tidak boleh negatif. Tanyakan nominal isi ulang yang dibayar pelanggan."
        )
    lowered = re.sub(r"(?<=\d)(?=[a-z])", " ", lowered)
    try:
        values = [_phrase_value(p) for p in _nominal_phrases(lowered)]
    except _NominalError as exc:
        return Invalid(exc.reason)
    amounts = list(dict.fromkeys(int(round(v)) for v in values))
    if not amounts:
        return Invalid(
            "Nominal tidak terbaca. Tulis angkanya, misalnya 50rb, Rp 50.000 atau lima puluh "
            "ribu, lalu tanyakan nominal isi ulang ke pelanggan."
        )
    if len(amounts) > 1:
        plausible = [a for a in amounts if 1_000 <= a <= 10_000_000]
        if len(plausible) != 1:
            listed = " dan ".join(_rupiah(a) for a in (plausible or amounts))
            return Invalid(
                f"Ada lebih dari satu angka ({listed}). Tanyakan ke pelanggan nominal isi ulang "
                "yang benar, lalu tulis satu nominal saja."
            )
        amounts = plausible
    amount = amounts[0]
    if amount == 0:
        return Invalid("Nominal tidak boleh 0. Tanyakan nominal isi ulang yang dibayar pelanggan.")
    if amount < 1_000:
        return Invalid(
            f"Nominal {_rupiah(amount)} terlalu kecil (minimal Rp1.000). Kalau maksudnya ribuan, "
            f"tulis misalnya '{amount}rb'. Pastikan nominal ke pelanggan."
        )
    if amount > 10_000_000:
        return Invalid(
            f"Nominal {_rupiah(amount)} tidak wajar untuk isi ulang (maksimal Rp10.000.000). "
            "Pastikan ulang nominal ke pelanggan."
        )
    return Valid(amount)


# --------------------------------------------------------------------------- channel


def _channel_examples() -> str:
    return ", ".join(t.label.split(" (")[0] for t in vocabulary().channels)


def validate_channel(text: str) -> ValidationResult:
    """One mention -> canonical value; several -> list of canonical values in order.

    The pages list channels with "dll": a channel outside the list is accepted as written
    (the SOP file groups it by its words, e.g. a konter or kios is non fintech), with a note.
    """
    cleaned = _prepare(text, "channel")
    if isinstance(cleaned, Invalid):
        return cleaned
    matcher = _matcher("channels")
    found = matcher.find(cleaned)
    if found:
        return Valid(found[0] if len(found) == 1 else found)
    words = _words(cleaned).split()
    if 1 <= len(words) <= 3:
        # Typo in a short answer ("indomarret"): accept the close match, with a note.
        squashed = "".join(words)
        for candidate in [squashed, *words]:
            if len(candidate) < 6:
                continue
            close = difflib.get_close_matches(candidate, matcher.single_words, n=1, cutoff=0.85)
            if close:
                value = matcher.lookup(close[0])
                label = matcher.terms[value].label.split(" (")[0]
                return Valid(
                    value,
                    note=f"'{cleaned}' dibaca sebagai {label}; pastikan channel ke pelanggan.",
                )
    if _looks_like_a_name(words) and not _is_time_text(cleaned):
        return Valid(
            cleaned.lower(),
            note=f"Channel '{cleaned}' tidak ada di daftar; dicatat sesuai tulisan.",
        )
    return Invalid(
        f"Channel '{_short(cleaned)}' tidak dikenali. Tanyakan ke pelanggan lewat mana "
        f"transaksinya (nama channel saja). Contoh: {_channel_examples()}."
    )


# Words that make a short text a description of the complaint, not the name of a channel.
_NOT_A_NAME = {
    "belum",
    "tidak",
    "gak",
    "ga",
    "blm",
    "tdk",
    "masuk",
    "kartu",
    "jenis",
    "nomor",
    "kuota",
    "paket",
    "sudah",
    "udah",
    "ada",
    "gagal",
    "error",
    "saldo",
}


def _is_time_text(text: str) -> bool:
    """'kemarin', 'tadi pagi': a time typed into the wrong question is not a name."""
    now = datetime.now(agent_timezone())
    return parse_indonesian_datetime(text, now) is not None


def _looks_like_a_name(words: Sequence[str]) -> bool:
    return (
        1 <= len(words) <= 4
        and any(ch.isalpha() for w in words for ch in w)
        and not any(w in _NOT_A_NAME for w in words)
    )


def channel_group(channel: str) -> str:
    """'non_fintech' | 'fintech' | 'app' of a canonical channel value (ValueError if unknown)."""
    groups = vocabulary().channel_groups
    if channel not in groups:
        raise ValueError(f"unknown channel {channel!r}; expected one of {sorted(groups)}")
    return groups[channel]


def known_channel_group(channel: str) -> Optional[str]:
    """The group of a listed channel; None for a channel accepted as written."""
    return vocabulary().channel_groups.get(channel)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- identifiers

_SN_LABEL = re.compile(
    r"^(?:no(?:mor)?\.?\s*)?(?:sn|s/n|serial\s*number|serial\s*voucher|serial|no\s*seri)"
    r"\s*[:=#.]?\s*",
    re.IGNORECASE,
)


def validate_serial_number(text: str) -> ValidationResult:
    """Recharge SN: exactly 25 digits starting with 02 (spaces, dashes, dots ignored)."""
    cleaned = _prepare(text, "serial_number")
    if isinstance(cleaned, Invalid):
        return cleaned
    body = _SN_LABEL.sub("", cleaned)
    digits = re.sub(r"[\s.\-]", "", body)
    ask = "Minta pelanggan menanyakan SN yang sesuai format ke penjual/mitra tempat membeli."
    if not digits.isdigit() or not digits.isascii():
        return Invalid(
            "Serial number hanya berisi angka (25 digit, diawali 02); yang diberikan memuat "
            f"huruf/simbol. {ask}"
        )
    problems: List[str] = []
    if len(digits) != 25:
        problems.append(f"harus 25 digit (yang diberikan {len(digits)} digit)")
    if not digits.startswith("02"):
        problems.append(f"harus diawali 02 (yang diberikan diawali {digits[:2]})")
    if problems:
        return Invalid(f"Serial number {' dan '.join(problems)}. {ask}")
    return Valid(digits)


def _strip_label(text: str, label: str) -> str:
    """Drop a leading label ("order id: ", "SID ") that is followed by a separator."""
    return re.sub(rf"^(?:{label})(?:\s*[:=#]\s*|\s+)", "", text, flags=re.IGNORECASE).strip()


def _identifier(
    text: str,
    field: str,
    label_re: str,
    allowed: str,
    allowed_desc: str,
    min_len: int,
    max_len: int,
    ask: str,
) -> ValidationResult:
    cleaned = _prepare(text, field)
    if isinstance(cleaned, Invalid):
        return cleaned
    label = FIELD_LABELS[field]
    body = _strip_label(cleaned, label_re)
    if not body:
        return Invalid(f"{_capitalise(label)} masih kosong. {ask}")
    if " " in body:
        return Invalid(f"{_capitalise(label)} tidak boleh berisi spasi ('{_short(body)}'). {ask}")
    bad = sorted({ch for ch in body if not re.fullmatch(allowed, ch)})
    if bad:
        return Invalid(
            f"{_capitalise(label)} hanya boleh berisi {allowed_desc} (ada karakter "
            f"'{''.join(bad[:5])}'). {ask}"
        )
    if not min_len <= len(body) <= max_len:
        return Invalid(
            f"{_capitalise(label)} harus {min_len}-{max_len} karakter (yang diberikan "
            f"{len(body)} karakter). {ask}"
        )
    if not any(ch.isdigit() for ch in body):
        return Invalid(f"{_capitalise(label)} harus mengandung angka. {ask}")
    return Valid(body.upper())


def validate_transaction_id(text: str) -> ValidationResult:
    """MyTelkomsel transaction ID: 8-40 letters/digits/-/_, with a digit; upper case."""
    return _identifier(
        text,
        "transaction_id",
        r"(?:(?:id|no|nomor)\s*)?(?:transaksi|trx|transaction)(?:\s*id)?|trxid",
        r"[A-Za-z0-9_-]",
        "huruf, angka, - dan _",
        8,
        40,
        "Minta pelanggan menyalin ID transaksi persis dari riwayat transaksi MyTelkomsel.",
    )


def validate_order_id(text: str) -> ValidationResult:
    """GraPARI Online order ID: 6-40 letters/digits/-, with a digit; upper case."""
    return _identifier(
        text,
        "order_id",
        r"(?:no(?:mor)?\s*)?(?:order\s*id|id\s*order|order)",
        r"[A-Za-z0-9-]",
        "huruf, angka dan -",
        6,
        40,
        "Minta pelanggan melihat order ID di email/SMS konfirmasi GraPARI Online.",
    )


def validate_sid(text: str) -> ValidationResult:
    """IMES/Jastel SID: digits with at most one dash group, 6-30 characters."""
    cleaned = _prepare(text, "sid")
    if isinstance(cleaned, Invalid):
        return cleaned
    body = _strip_label(cleaned, r"(?:no(?:mor)?\s*)?(?:sid|service\s*id)")
    body = re.sub(r"\s*-\s*", "-", body)
    ask = "Minta SID layanan dari pelanggan (contoh 1192187997 atau 300107201-003092947)."
    if not re.fullmatch(r"\d+(?:-\d+)?", body):
        return Invalid(f"SID hanya berisi angka dengan paling banyak satu tanda '-'. {ask}")
    if not 6 <= len(body) <= 30:
        return Invalid(f"SID harus 6-30 karakter (yang diberikan {len(body)}). {ask}")
    return Valid(body)


def validate_account_number(text: str) -> ValidationResult:
    """Billing account number: 5-15 digits."""
    cleaned = _prepare(text, "account_number")
    if isinstance(cleaned, Invalid):
        return cleaned
    body = _strip_label(
        cleaned, r"(?:no(?:mor)?\.?\s*)?(?:account\s*(?:number|no)?|acc(?:ount)?\s*no|akun)"
    )
    body = body.replace(" ", "")
    ask = "Minta account number dari pelanggan atau cari lewat SID di NCX (EBIS > Asset)."
    if not body.isdigit() or not body.isascii():
        return Invalid(f"Account number hanya berisi angka. {ask}")
    if not 5 <= len(body) <= 15:
        return Invalid(f"Account number harus 5-15 digit (yang diberikan {len(body)} digit). {ask}")
    return Valid(body)


# --------------------------------------------------------------------------- e-mail

_EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9._%+'-])([A-Za-z0-9._%+'-]+)@"
    r"((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24})(?![A-Za-z0-9-])"
)


def validate_email(text: str) -> ValidationResult:
    """Pragmatic e-mail check (also inside a sentence); the domain is lower-cased."""
    cleaned = _prepare(text, "email")
    if isinstance(cleaned, Invalid):
        return cleaned
    compact = re.sub(r"\s*@\s*", "@", cleaned)
    found: List[str] = []
    for m in _EMAIL_RE.finditer(compact):
        local, domain = m.group(1), m.group(2).lower()
        if local.startswith(".") or local.endswith(".") or ".." in local or len(local) > 64:
            continue
        address = f"{local}@{domain}"
        if address not in found and len(address) <= 254:
            found.append(address)
    ask = "Minta pelanggan mengeja ulang alamat emailnya (contoh budi@gmail.com)."
    if not found:
        if "@" in compact:
            return Invalid(f"Format email '{_short(compact)}' tidak valid. {ask}")
        return Invalid(f"Tidak ada alamat email (tanda @) di teks ini. {ask}")
    if len(found) > 1:
        return Invalid(
            f"Ada {len(found)} alamat email berbeda ({', '.join(found)}). Tanyakan ke pelanggan "
            "email mana yang dipakai."
        )
    address = found[0]
    domain = address.rsplit("@", 1)[1]
    fix = vocabulary().email_domain_typos.get(domain)
    if fix:
        return Valid(
            address,
            note=f"Domain '{domain}' mungkin salah ketik ({fix}?); pastikan ke pelanggan.",
        )
    return Valid(address)


# --------------------------------------------------------------------------- choice-like slots


def _single_choice(text: str, field: str, kind: str, ask: str) -> ValidationResult:
    cleaned = _prepare(text, field)
    if isinstance(cleaned, Invalid):
        return cleaned
    matcher = _matcher(kind)
    found = matcher.find(cleaned)
    label = FIELD_LABELS[field]
    if len(found) == 1:
        return Valid(found[0])
    if found:
        return Invalid(
            f"Ada lebih dari satu {label} ({matcher.labels(found)}). {ask} Pilih satu saja."
        )
    examples = matcher.labels(list(matcher.terms))
    return Invalid(
        f"{_capitalise(label)} '{_short(cleaned)}' tidak dikenali. {ask} Pilihan: {examples}."
    )


def validate_courier(text: str) -> ValidationResult:
    """Canonical courier; an unknown but plausible name is kept as typed, with a note."""
    cleaned = _prepare(text, "courier")
    if isinstance(cleaned, Invalid):
        return cleaned
    matcher = _matcher("couriers")
    found = matcher.find(cleaned)
    if len(found) == 1:
        return Valid(found[0])
    if found:
        return Invalid(
            f"Ada lebih dari satu kurir ({matcher.labels(found)}). Tanyakan kurir yang dipilih "
            "pelanggan saat order."
        )
    if len(cleaned) <= 40 and any(ch.isalpha() for ch in cleaned):
        return Valid(
            cleaned,
            note="Kurir ini tidak ada di daftar; dicatat sesuai tulisan, pastikan ke pelanggan.",
        )
    return Invalid(
        "Nama kurir tidak dikenali. Tanyakan kurir yang dipilih pelanggan saat order "
        "(contoh JNE, J&T, SiCepat, AnterAja, GoSend, GrabExpress)."
    )


def validate_delivery_type(text: str) -> ValidationResult:
    """'reguler' | 'instant'."""
    return _single_choice(
        text,
        "delivery_type",
        "delivery_types",
        "Tanyakan jenis pengiriman yang dipilih saat order.",
    )


def validate_imes_product(text: str) -> ValidationResult:
    """'radio' | 'vsat' | 'seat_management'; another product is accepted as written.

    The page names "Radio, VSAT, Seat Management DLL": a product outside the list (ASTINET,
    VPN IP, METRO, ...) follows the page's general path, with a note."""
    cleaned = _prepare(text, "imes_product")
    if isinstance(cleaned, Invalid):
        return cleaned
    found = _matcher("imes_products").find(cleaned)
    if len(found) == 1:
        return Valid(found[0])
    result = _single_choice(
        text, "imes_product", "imes_products", "Tanyakan produk IMES yang digunakan pelanggan."
    )
    words = _words(cleaned, vocabulary().slang).split()
    if found or not _looks_like_a_name(words) or _is_time_text(cleaned):
        return result
    return Valid(
        cleaned.upper(),
        note=f"Produk '{cleaned}' tidak ada di daftar halaman (Radio, VSAT, Seat Management "
        "dll); dicatat sesuai tulisan dan mengikuti alur umum halaman.",
    )


def validate_gol_case(text: str) -> ValidationResult:
    """One of the 19 canonical gol_case values from agent wording."""
    return _single_choice(
        text, "gol_case", "gol_cases", "Cek status order di DSC atau tanyakan kendalanya."
    )


def validate_callback_case(text: str) -> ValidationResult:
    """One of the 5 canonical callback_case values."""
    return _single_choice(
        text, "callback_case", "callback_cases", "Tentukan kriteria callback-nya."
    )


_LAYANAN_ORDER = ("voice", "sms", "data")


def _layanan_value(found: Sequence[str]) -> Union[str, List[str]]:
    if "semua" in found or set(_LAYANAN_ORDER) <= set(found):
        return "semua"
    ordered = [v for v in _LAYANAN_ORDER if v in found]
    return ordered[0] if len(ordered) == 1 else ordered


def validate_layanan(text: str) -> ValidationResult:
    """'voice' | 'sms' | 'data' | 'semua'; several -> list in that order; all three -> 'semua'."""
    cleaned = _prepare(text, "layanan")
    if isinstance(cleaned, Invalid):
        return cleaned
    found = _matcher("layanan").find(cleaned)
    if not found:
        return Invalid(
            f"Layanan '{_short(cleaned)}' tidak dikenali. Tanyakan layanan yang tidak bisa "
            "digunakan: voice (telepon), SMS, data/internet, atau semuanya."
        )
    return Valid(_layanan_value(found))


# --------------------------------------------------------------------------- event time


def _fmt(value: datetime) -> str:
    return f"{value:%d-%m-%Y %H:%M}"


def _range_value(start: datetime, end: datetime) -> str:
    """ISO 8601 interval of a time known only to the day or day part."""
    return f"{start.isoformat(timespec='seconds')}/{end.isoformat(timespec='seconds')}"


def validate_event_time(text: str, now: datetime) -> ValidationResult:
    """Date/time of the event -> ISO 8601 with the agents' UTC offset; never in the future.

    A date without the hour ("kemarin", "tadi", "21/11") or a day part without a clock time
    ("tadi pagi") is an interval 'start/end' (ISO 8601), never 00:00 or a guessed hour: the
    engine asks the hour when a rule's outcome depends on it. A clock time without a date
    that has not come yet today is refused with a question (was it yesterday?), not guessed.
    """
    cleaned = _prepare(text, "event_time")
    if isinstance(cleaned, Invalid):
        return cleaned
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    zone = agent_timezone()
    now_local = now.astimezone(zone)
    parsed = parse_indonesian_datetime(cleaned, now_local)
    if parsed is None:
        return Invalid(
            f"Waktu kejadian '{_short(cleaned)}' tidak terbaca. Tanyakan tanggal dan jam "
            "kejadian, lalu tulis misalnya '21/11/2026 15:30', 'kemarin jam 3 sore' atau "
            "'tadi pagi'."
        )
    value = parsed.value
    label = zone_label(zone)
    if parsed.assumed_yesterday:
        return Invalid(
            f"Jam {value:%H:%M} belum lewat hari ini (sekarang {now_local:%H:%M} {label}). "
            f"Kejadiannya kemarin? Tulis dengan harinya, misalnya 'kemarin jam {value:%H.%M}'."
        )
    if parsed.has_time:
        future = value > now_local + timedelta(minutes=1)
        shown = f"{_fmt(value)} {label}"
    else:
        future = value.date() > now_local.date()
        shown = f"{value:%d-%m-%Y}"
    if future:
        return Invalid(
            f"Waktu kejadian {shown} masih di masa depan (sekarang {_fmt(now_local)} {label}). "
            "Pastikan ulang tanggal dan jam kejadian ke pelanggan."
        )
    one_year_ago = now_local - relativedelta(years=1)
    if value.date() < one_year_ago.date():
        return Invalid(
            f"Tanggal kejadian {value:%d-%m-%Y} sudah lebih dari 1 tahun yang lalu. Pastikan "
            "ulang tanggal kejadian ke pelanggan."
        )
    local = value.astimezone(zone)
    if not parsed.has_time or parsed.daypart is not None:
        first, last = (0, 24) if not parsed.has_time else DAYPART_RANGES[parsed.daypart or "pagi"]
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        start = day + timedelta(hours=first)
        end = min(day + timedelta(hours=last) - timedelta(minutes=1), now_local)
        end = end.replace(second=0, microsecond=0)
        if start > now_local:
            return Invalid(
                f"Waktu kejadian {start:%d-%m-%Y %H:%M} {label} masih di masa depan (sekarang "
                f"{_fmt(now_local)} {label}). Pastikan ulang waktu kejadian ke pelanggan."
            )
        what = "Hanya tanggal" if not parsed.has_time else f"Hanya bagian hari ({parsed.daypart})"
        return Valid(
            _range_value(start, end),
            note=f"{what}, jam pastinya belum diketahui ({start:%H:%M}-{end:%H:%M}). Bila "
            "aturan SOP bergantung pada jam, jamnya akan ditanyakan.",
        )
    notes: List[str] = []
    if parsed.approximate:
        notes.append(f"Jam diperkirakan ({value:%H:%M}); tanyakan jam pastinya bila bisa.")
    if parsed.ambiguous_hour:
        notes.append(
            f"Jam dibaca {value:%H:%M} (format 24 jam); pastikan pagi/sore/malam ke pelanggan."
        )
    return Valid(value.isoformat(timespec="seconds"), note=" ".join(notes) or None)


def validate_event_hour(text: str, now: datetime) -> ValidationResult:
    """The hour of an event whose day is already known: 'HH:MM' (agents' zone)."""
    cleaned = _prepare(text, "event_hour")
    if isinstance(cleaned, Invalid):
        return cleaned
    zone = agent_timezone()
    parsed = parse_indonesian_datetime(cleaned, now.astimezone(zone))
    if parsed is None or not parsed.has_time or parsed.daypart is not None:
        return Invalid(
            f"Jam '{_short(cleaned)}' tidak terbaca. Tulis jamnya, misalnya '14.30' atau "
            "'jam 9 malam'."
        )
    local = parsed.value.astimezone(zone)
    note = None
    if parsed.ambiguous_hour:
        note = f"Jam dibaca {local:%H:%M} (format 24 jam); pastikan pagi/sore/malam ke pelanggan."
    return Valid(f"{local:%H:%M}", note=note)


# --------------------------------------------------------------------------- no value

# The honest ways out of a question: the customer has no such value or does not know it.
_NO_VALUE_RE = re.compile(
    r"\b(?:(?:tidak|tdk|tak|gak|ga|gk|nggak|ngga|enggak|g|belum|blm|blom)\s+"
    r"(?:punya|pny|tau|tahu|taw|ingat|inget|ada|tersedia|dapat|dapet|dpt|simpan)"
    r"|lupa|hilang|ilang|kehapus|terhapus|kehilangan|dihapus|kebuang)\b"
)
# Words of a phrase that only negates ("blm ada", "gak"): never the value of a criterion.
_NEGATION_WORDS = {
    "tidak",
    "tdk",
    "tak",
    "gak",
    "ga",
    "gk",
    "nggak",
    "ngga",
    "enggak",
    "g",
    "belum",
    "blm",
    "blom",
    "ada",
    "no",
    "nope",
    "bukan",
    "engga",
    "nda",
    "ndak",
    "kosong",
    "none",
    "-",
}


def is_no_value(text: Any) -> bool:
    """'pelanggan tidak punya SN', 'tidak tahu', 'SN kehapus', 'gak ada': the way out."""
    if not isinstance(text, str) or re.search(r"\d{4,}", text):
        return False
    lowered = _clean_text(text).lower()
    return bool(_NO_VALUE_RE.search(lowered)) or only_negation(lowered)


# How agents name a value of another kind inside a way-out phrase ("ga punya SN"): such a
# phrase answers that other question, never the one being asked.
_KIND_MENTIONS: Dict[str, re.Pattern[str]] = {
    "serial_number": re.compile(r"\b(?:sn|serial(?:\s*number)?|nomor\s+seri|no\.?\s*seri)\b"),
    "transaction_id": re.compile(
        r"\b(?:trx|transaksi\s*id|id\s*transaksi|trans(?:action)?\s*id|id\s*trx)\b"
    ),
    "email": re.compile(r"\b(?:e-?mail|surel)\b"),
    "order_id": re.compile(
        r"\b(?:order\s*id|id\s*order|id\s*pesanan|(?:nomor|no)\.?\s*(?:order|pesanan))\b"
    ),
    "sid": re.compile(r"\bsid\b"),
    "account_number": re.compile(r"\b(?:account|(?:nomor|no)\.?\s*akun|akun)\b"),
}


def other_kind_named(text: Any, kind: str) -> Optional[str]:
    """The kind of value another than ``kind`` that ``text`` names, if it names one and not
    ``kind`` itself: 'pelanggan ga punya SN' names 'serial_number'."""
    if not isinstance(text, str):
        return None
    lowered = _clean_text(text).lower()
    own = _KIND_MENTIONS.get(kind)
    if own is not None and own.search(lowered):
        return None
    for other, pattern in _KIND_MENTIONS.items():
        if other != kind and pattern.search(lowered):
            return other
    return None


def only_negation(text: Any) -> bool:
    """True for a phrase that only negates ("blm ada", "ga"): it names no value."""
    if not isinstance(text, str):
        return False
    cleaned = _clean_text(text).lower()
    if re.search(r"\d", cleaned):
        return False
    words = re.findall(r"[a-z]+", cleaned)
    return bool(words) and all(w in _NEGATION_WORDS for w in words)


# --------------------------------------------------------------------------- registry


def _without_now(
    func: Callable[[str], ValidationResult],
) -> Callable[[str, datetime], ValidationResult]:
    @functools.wraps(func)
    def wrapper(text: str, now: datetime) -> ValidationResult:
        return func(text)

    return wrapper


VALIDATORS: Dict[str, Callable[[str, datetime], ValidationResult]] = {
    "msisdn": _without_now(validate_msisdn),
    "nominal": _without_now(validate_nominal),
    "channel": _without_now(validate_channel),
    "serial_number": _without_now(validate_serial_number),
    "transaction_id": _without_now(validate_transaction_id),
    "email": _without_now(validate_email),
    "order_id": _without_now(validate_order_id),
    "sid": _without_now(validate_sid),
    "account_number": _without_now(validate_account_number),
    "courier": _without_now(validate_courier),
    "delivery_type": _without_now(validate_delivery_type),
    "layanan": _without_now(validate_layanan),
    "imes_product": _without_now(validate_imes_product),
    "gol_case": _without_now(validate_gol_case),
    "callback_case": _without_now(validate_callback_case),
    "event_time": validate_event_time,
    "event_hour": validate_event_hour,
}

# Slots whose value may legitimately be several canonical values at once.
_MULTI_VALUE = {"channel", "layanan"}


def _raw_to_text(raw: Any) -> Optional[str]:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            return None
        return str(int(raw)) if raw.is_integer() else repr(raw)
    if isinstance(raw, str):
        return raw
    return None


def _shown(name: str, value: Any) -> str:
    if name == "msisdn" and isinstance(value, str):
        return mask_msisdn(value)
    if name == "nominal" and isinstance(value, int):
        return _rupiah(value)
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _merge_notes(results: Sequence[Valid]) -> Optional[str]:
    notes = list(dict.fromkeys(r.note for r in results if r.note))
    return " ".join(notes) or None


def validate(name: str, raw: Any, now: datetime) -> ValidationResult:
    """Validate an entity/slot value of any JSON type with the validator called ``name``.

    Lists: every item is validated; equal normalised values are merged; differing values are
    refused with a question, except for channel and layanan, which keep all values. For
    event_time the items are first tried joined ("kemarin" + "jam 3 sore").
    """
    if name not in VALIDATORS:
        raise KeyError(f"unknown validator {name!r}; known: {sorted(VALIDATORS)}")
    func = VALIDATORS[name]
    label = FIELD_LABELS[name]
    if isinstance(raw, (list, tuple)):
        items = [
            item
            for item in raw
            if not (item is None or (isinstance(item, str) and not item.strip()))
        ]
        if not items:
            return Invalid(f"{_capitalise(label)} masih kosong. Tanyakan {label} ke pelanggan.")
        if len(items) == 1:
            return validate(name, items[0], now)
        if name == "event_time" and all(isinstance(i, str) for i in items):
            joined = func(" ".join(items), now)
            if isinstance(joined, Valid):
                return joined
            # a stray short number read as a time ("block 1") next to a real time expression
            words = [i for i in items if re.search(r"[A-Za-z]", i)]
            if words and len(words) < len(items):
                return validate(name, words, now)
        results = [validate(name, item, now) for item in items]
        for result in results:
            if isinstance(result, Invalid):
                return result
        valid = [r for r in results if isinstance(r, Valid)]
        if name in _MULTI_VALUE:
            flat: List[str] = []
            for r in valid:
                for v in r.value if isinstance(r.value, list) else [r.value]:
                    if v not in flat:
                        flat.append(v)
            value: Any = _layanan_value(flat) if name == "layanan" else flat
            if isinstance(value, list) and len(value) == 1:
                value = value[0]
            return Valid(value, note=_merge_notes(valid))
        distinct: Dict[str, Valid] = {}
        for r in valid:
            distinct.setdefault(json.dumps(r.value, sort_keys=True), r)
        if len(distinct) == 1:
            return Valid(valid[0].value, note=_merge_notes(valid))
        listed = ", ".join(_shown(name, r.value) for r in distinct.values())
        return Invalid(
            f"Ada {len(distinct)} {label} berbeda ({listed}). Tanyakan ke pelanggan mana yang "
            "benar, lalu tulis satu saja."
        )
    if raw is None:
        return Invalid(f"{_capitalise(label)} masih kosong. Tanyakan {label} ke pelanggan.")
    text = _raw_to_text(raw)
    if text is None:
        return Invalid(
            f"Format isian {label} tidak dikenali. Tulis {label} sebagai teks, lalu coba lagi."
        )
    return func(text, now)
