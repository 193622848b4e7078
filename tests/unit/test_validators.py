"""Pure validators of the slot kinds (sop_engine/kinds): good and bad inputs for every kind."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, List
from zoneinfo import ZoneInfo

import pytest

from sop_engine import kinds
from sop_engine.kinds.account_number import validate as validate_account_number
from sop_engine.kinds.base import Invalid, Valid, ValidationResult
from sop_engine.kinds.callback_case import validate as validate_callback_case
from sop_engine.kinds.channel import channel_group
from sop_engine.kinds.channel import validate as validate_channel
from sop_engine.kinds.courier import validate as validate_courier
from sop_engine.kinds.delivery_type import validate as validate_delivery_type
from sop_engine.kinds.email import validate as validate_email
from sop_engine.kinds.event_time import validate as validate_event_time
from sop_engine.kinds.gol_case import validate as validate_gol_case
from sop_engine.kinds.imes_product import validate as validate_imes_product
from sop_engine.kinds.layanan import validate as validate_layanan
from sop_engine.kinds.msisdn import mask_msisdn
from sop_engine.kinds.msisdn import validate as validate_msisdn
from sop_engine.kinds.nominal import validate as validate_nominal
from sop_engine.kinds.order_id import validate as validate_order_id
from sop_engine.kinds.serial_number import validate as validate_serial_number
from sop_engine.kinds.sid import validate as validate_sid
from sop_engine.kinds.transaction_id import validate as validate_transaction_id
from sop_engine.kinds.way_out import is_no_value, only_negation
from sop_engine.normaliser import VOCABULARY_PATH, vocabulary

WIB = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=WIB)
NOW_EARLY = datetime(2026, 11, 22, 0, 10, tzinfo=WIB)

SN = "0215123456789012345678901"


@pytest.fixture(autouse=True)
def _agent_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_TZ", "Asia/Jakarta")


def _valid(result: ValidationResult) -> Valid:
    assert isinstance(result, Valid), result
    json.dumps(result.value)  # JSON-serialisable
    return result


def _invalid(result: ValidationResult) -> Invalid:
    assert isinstance(result, Invalid), result
    assert result.reason.strip()
    return result


# --------------------------------------------------------------------------- registry / generic

ALL_NAMES = [
    "msisdn",
    "nominal",
    "channel",
    "serial_number",
    "transaction_id",
    "email",
    "order_id",
    "sid",
    "account_number",
    "courier",
    "delivery_type",
    "layanan",
    "imes_product",
    "gol_case",
    "callback_case",
    "event_time",
    "event_hour",
]


def test_registry_has_exactly_the_form_validators() -> None:
    # the kinds a text is validated by, and the two whose options come from the SOP file
    assert kinds.names() == sorted(ALL_NAMES + ["choice", "payment_method"])


GENERIC_BAD = [
    "",
    "   ",
    "\t\n ",
    "\x00\x00\x00",
    "\u200b\u200b",
    "😀",
    "😀🙏🔥",
    "?!...--",
    "x" * 10_000,
    "1" * 10_000,
]


@pytest.mark.parametrize("name", ALL_NAMES)
@pytest.mark.parametrize("text", GENERIC_BAD, ids=lambda t: repr(t[:12]))
def test_every_validator_refuses_empty_emoji_and_huge_text(name: str, text: str) -> None:
    result = _invalid(kinds.kind(name).validate(text, NOW))
    assert len(result.reason) < 600


@pytest.mark.parametrize("name", ALL_NAMES)
def test_text_over_500_characters_is_refused(name: str) -> None:
    result = _invalid(kinds.validate(name, "a " * 260, NOW))
    assert "500" in result.reason


@pytest.mark.parametrize("name", ALL_NAMES)
@pytest.mark.parametrize("raw", [None, [], ["", "  "], True, {"a": 1}, float("nan")])
def test_validate_refuses_missing_or_odd_types(name: str, raw: Any) -> None:
    _invalid(kinds.validate(name, raw, NOW))


def test_validate_unknown_name_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        kinds.validate("nope", "x", NOW)


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("msisdn", 81234567890, "081234567890"),
        ("msisdn", 6281234567890, "081234567890"),
        ("nominal", 50000, 50000),
        ("nominal", 50000.0, 50000),
        ("account_number", 4861675, "4861675"),
        ("sid", 1192187997, "1192187997"),
        ("msisdn", "0812\x003456\x007890", "081234567890"),
        ("msisdn", "\x1b0812-3456-7890\x7f", "081234567890"),
        ("serial_number", "0215\x00123456789012345678901", SN),
        ("channel", "go\u200bpay", "gopay"),
        ("email", "budi\u200b@gmail.com", "budi@gmail.com"),
    ],
)
def test_validate_accepts_numbers_and_strips_control_chars(
    name: str, raw: Any, expected: Any
) -> None:
    assert _valid(kinds.validate(name, raw, NOW)).value == expected


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("msisdn", ["081234567890", "+62 812-3456-7890"], "081234567890"),
        ("nominal", ["50rb", "Rp 50.000", "lima puluh ribu"], 50000),
        ("serial_number", [SN, SN[:4] + " " + SN[4:]], SN),
        ("channel", ["gopay", "mytelkomsel"], ["gopay", "mytelkomsel"]),
        ("channel", ["gopay", "go-pay", "GoPay"], "gopay"),
        ("channel", ["gopay di mytelkomsel", "mytsel"], ["gopay", "mytelkomsel"]),
        ("layanan", ["sms", "telepon"], ["voice", "sms"]),
        ("layanan", ["sms", "telepon", "internet"], "semua"),
        ("event_time", ["kemarin", "jam 3 sore"], "2026-11-21T15:00:00+07:00"),
        ("event_time", ["kemarin jam 3 sore", "kemarin jam 15.00"], "2026-11-21T15:00:00+07:00"),
        ("email", [None, "budi@gmail.com"], "budi@gmail.com"),
    ],
)
def test_validate_lists_merge_equal_values(name: str, raw: List[Any], expected: Any) -> None:
    assert _valid(kinds.validate(name, raw, NOW)).value == expected


@pytest.mark.parametrize(
    ("name", "raw", "fragments"),
    [
        ("msisdn", ["081234567890", "081311112222"], ["0812****7890", "0813****2222"]),
        ("nominal", ["50rb", "100rb"], ["Rp50.000", "Rp100.000"]),
        ("email", ["a@b.com", "c@d.com"], ["a@b.com", "c@d.com"]),
        ("gol_case", ["pending perso", "delivery incident"], ["berbeda"]),
        ("event_time", ["kemarin jam 3 sore", "tadi pagi"], ["berbeda"]),
        ("msisdn", ["081234567890", "abc"], ["nomor HP"]),
    ],
)
def test_validate_lists_with_differing_values_ask_which(
    name: str, raw: List[Any], fragments: List[str]
) -> None:
    reason = _invalid(kinds.validate(name, raw, NOW)).reason
    for fragment in fragments:
        assert fragment in reason
    assert "081234567890" not in reason  # MSISDNs are masked


# --------------------------------------------------------------------------- msisdn

MSISDN_GOOD = [
    ("081234567890", "081234567890"),
    ("0812-3456-7890", "081234567890"),
    ("0812 3456 7890", "081234567890"),
    ("0812.3456.7890", "081234567890"),
    ("(0812) 3456-7890", "081234567890"),
    ("nomornya 0812-3456-7890 kak", "081234567890"),
    ("+6281234567890", "081234567890"),
    ("+62 812 3456 7890", "081234567890"),
    ("+62 812-3456-7890", "081234567890"),
    ("+62-812-3456-7890", "081234567890"),
    ("(+62) 812.3456.7890", "081234567890"),
    ("+62 (0)812 3456 7890", "081234567890"),
    ("6285212345678", "085212345678"),
    ("62 852 1234 5678", "085212345678"),
    ("006281234567890", "081234567890"),
    ("81234567890", "081234567890"),
    ("0811234567", "0811234567"),  # 10 digits
    ("0812345678901", "0812345678901"),  # 13 digits
    ("081234567890 dan 081234567890", "081234567890"),  # same number twice
    ("nomor 081234567890 isi 50rb", "081234567890"),
    ("nomor 081234567890, CP lain 021-5551234", "081234567890"),
]


@pytest.mark.parametrize(("text", "expected"), MSISDN_GOOD)
def test_msisdn_good(text: str, expected: str) -> None:
    assert _valid(validate_msisdn(text)).value == expected


MSISDN_BAD = [
    ("abc", "Tidak ada nomor HP"),
    ("nomornya belum tahu kak", "Tidak ada nomor HP"),
    ("021-5551234", "rumah/kantor"),
    ("(021) 555 1234", "rumah/kantor"),
    ("0227654321", "rumah/kantor"),
    ("0812345", "terlalu pendek"),
    ("081234567", "9 digit"),
    ("08123456789012", "terlalu panjang"),
    ("08123456789012345", "17 digit"),
    ("0812 3456 7890 0813 1111 2222", "0813****2222"),
    ("081234567890 / 081311112222", "0812****7890"),
    ("nomor 081234567890 atau +62 813-1111-2222", "2 nomor berbeda"),
    ("+1 415 555 0100", "bukan nomor Indonesia"),
    ("12345678", "bukan format nomor HP"),
]


@pytest.mark.parametrize(("text", "fragment"), MSISDN_BAD)
def test_msisdn_bad(text: str, fragment: str) -> None:
    reason = _invalid(validate_msisdn(text)).reason
    assert fragment in reason


def test_msisdn_two_numbers_reason_is_masked() -> None:
    reason = _invalid(validate_msisdn("081234567890 081311112222")).reason
    assert "0812****7890" in reason and "0813****2222" in reason
    assert "081234567890" not in reason and "081311112222" not in reason


@pytest.mark.parametrize(
    ("msisdn", "masked"),
    [
        ("081234567890", "0812****7890"),
        ("0812345678901", "0812*****8901"),
        ("0811234567", "0811**4567"),
        ("0812345", "08***45"),
    ],
)
def test_mask_msisdn(msisdn: str, masked: str) -> None:
    assert mask_msisdn(msisdn) == masked


# --------------------------------------------------------------------------- nominal

NOMINAL_GOOD = [
    ("50rb", 50_000),
    ("50 rb", 50_000),
    ("50 ribu", 50_000),
    ("50rebu", 50_000),
    ("Rp 50.000", 50_000),
    ("Rp50.000", 50_000),
    ("Rp50,000", 50_000),
    ("Rp 50.000,-", 50_000),
    ("Rp 50.000,00", 50_000),
    ("IDR 50000", 50_000),
    ("50.000 rupiah", 50_000),
    ("50 000", 50_000),
    ("100k", 100_000),
    ("100K", 100_000),
    ("seratus ribu", 100_000),
    ("lima puluh ribu", 50_000),
    ("dua puluh lima ribu", 25_000),
    ("dua ratus lima puluh ribu", 250_000),
    ("lima belas ribu", 15_000),
    ("sebelas ribu", 11_000),
    ("sepuluh ribu", 10_000),
    ("1 jt", 1_000_000),
    ("1jt", 1_000_000),
    ("1,5 juta", 1_500_000),
    ("1.5jt", 1_500_000),
    ("1 jt 500 rb", 1_500_000),
    ("satu setengah juta", 1_500_000),
    ("setengah juta", 500_000),
    ("satu juta dua ratus ribu", 1_200_000),
    ("25000", 25_000),
    ("1.500.000", 1_500_000),
    ("seribu", 1_000),
    ("sejuta", 1_000_000),
    ("10 juta", 10_000_000),
    ("pulsa 50rb kak", 50_000),
    ("isi 100rb nomor 081234567890", 100_000),
]


@pytest.mark.parametrize(("text", "expected"), NOMINAL_GOOD)
def test_nominal_good(text: str, expected: int) -> None:
    value = _valid(validate_nominal(text)).value
    assert value == expected and isinstance(value, int)


NOMINAL_BAD = [
    ("0", "tidak boleh 0"),
    ("Rp 0", "tidak boleh 0"),
    ("nol", "tidak boleh 0"),
    ("-5000", "negatif"),
    ("Rp -5.000", "negatif"),
    ("minus 5000", "negatif"),
    ("999", "Rp999"),
    ("50", "terlalu kecil"),
    ("999 juta", "Rp999.000.000"),
    ("11 juta", "maksimal Rp10.000.000"),
    ("abc", "tidak terbaca"),
    ("pulsanya belum masuk", "tidak terbaca"),
    ("ribu", "tidak terbaca"),
    ("50rb atau 100rb", "lebih dari satu"),
    ("1234.56.7", "tidak jelas"),
]


@pytest.mark.parametrize(("text", "fragment"), NOMINAL_BAD)
def test_nominal_bad(text: str, fragment: str) -> None:
    assert fragment in _invalid(validate_nominal(text)).reason


# --------------------------------------------------------------------------- channel

CHANNEL_GOOD = [
    # non fintech
    ("alfa", "alfamart"),
    ("Alfamart", "alfamart"),
    ("indomaret", "indomaret"),
    ("indomart", "indomaret"),
    ("indomrt", "indomaret"),
    ("pos", "pos_indonesia"),
    ("kantor pos", "pos_indonesia"),
    ("pos indonesia", "pos_indonesia"),
    ("gadai", "pegadaian"),
    ("pegadaian", "pegadaian"),
    ("m-kios", "mkios"),
    ("mkios", "mkios"),
    ("m kios", "mkios"),
    ("M-Kios", "mkios"),
    ("atm", "bank"),
    ("ATM BCA", "bank"),
    ("bca", "bank"),
    ("bca mobile", "bank"),
    ("m-banking", "bank"),
    ("mbanking", "bank"),
    ("livin", "bank"),
    ("livin by mandiri", "bank"),
    ("brimo", "bank"),
    ("bni mobile", "bank"),
    ("internet banking", "bank"),
    ("sms banking", "bank"),
    ("kartu kredit", "bank"),
    ("voucher", "voucher_fisik"),
    ("voucher fisik", "voucher_fisik"),
    # fintech
    ("gopay", "gopay"),
    ("go-pay", "gopay"),
    ("GoPay", "gopay"),
    ("gojek", "gopay"),
    ("ovo", "ovo"),
    ("OVO", "ovo"),
    ("dana", "dana"),
    ("shopee pay", "shopeepay"),
    ("shopeepay", "shopeepay"),
    ("spay", "shopeepay"),
    ("kredivo", "kredivo"),
    ("link aja", "linkaja"),
    ("linkaja", "linkaja"),
    ("jenius", "jenius"),
    # apps
    ("mytsel", "mytelkomsel"),
    ("my telkomsel", "mytelkomsel"),
    ("mytelkomsel", "mytelkomsel"),
    ("app telkomsel", "mytelkomsel"),
    ("tokped", "tokopedia"),
    ("tokopedia", "tokopedia"),
    ("shopee", "shopee"),
    ("bukalapak", "bukalapak"),
    ("BL", "bukalapak"),
    ("lazada", "lazada"),
    ("blibli", "blibli"),
    # in a sentence
    ("isi ulangnya lewat alfamart kak", "alfamart"),
    ("beli di indomaret kemarin", "indomaret"),
]


@pytest.mark.parametrize(("text", "expected"), CHANNEL_GOOD)
def test_channel_good(text: str, expected: str) -> None:
    result = _valid(validate_channel(text))
    assert result.value == expected
    assert result.note is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gopay di mytelkomsel", ["gopay", "mytelkomsel"]),
        ("beli di mytelkomsel bayar pakai gopay", ["mytelkomsel", "gopay"]),
        ("tokopedia pakai ovo", ["tokopedia", "ovo"]),
        ("shopee pakai shopee pay", ["shopee", "shopeepay"]),
        ("gopay, gopay di mytsel", ["gopay", "mytelkomsel"]),
    ],
)
def test_channel_several_mentions_keep_order(text: str, expected: List[str]) -> None:
    assert _valid(validate_channel(text)).value == expected


def test_channel_typo_in_short_answer_is_accepted_with_note() -> None:
    result = _valid(validate_channel("indomarret"))
    assert result.value == "indomaret"
    assert result.note is not None and "Indomaret" in result.note


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("alfamidi", "alfamidi"),
        ("Lawson", "lawson"),
        ("konter pulsa", "konter pulsa"),
        ("virtual account", "virtual account"),
        ("autodebet", "autodebet"),
        ("bayar di GraPARI", "bayar di grapari"),
    ],
)
def test_channel_outside_the_list_is_accepted_as_written_with_a_note(text: str, value: str) -> None:
    result = _valid(validate_channel(text))
    assert result.value == value
    assert result.note is not None and "tidak ada di daftar" in result.note


@pytest.mark.parametrize(
    ("text", "value"), [("astinet", "ASTINET"), ("VPN IP", "VPN IP"), ("metro e", "METRO E")]
)
def test_imes_product_outside_the_list_is_accepted_as_written(text: str, value: str) -> None:
    result = _valid(validate_imes_product(text))
    assert result.value == value
    assert result.note is not None and "alur umum" in result.note


@pytest.mark.parametrize(
    "text", ["jenis kartu", "pulsa belum masuk", "123456", "blm ada", "kemarin", "tadi pagi"]
)
def test_channel_unknown(text: str) -> None:
    reason = _invalid(validate_channel(text)).reason
    assert "tidak dikenali" in reason
    assert "GoPay" in reason and "Alfamart" in reason  # lists accepted examples


@pytest.mark.parametrize(
    ("channel", "group"),
    [
        ("mkios", "non_fintech"),
        ("alfamart", "non_fintech"),
        ("indomaret", "non_fintech"),
        ("pos_indonesia", "non_fintech"),
        ("pegadaian", "non_fintech"),
        ("bank", "non_fintech"),
        ("voucher_fisik", "non_fintech"),
        ("gopay", "fintech"),
        ("ovo", "fintech"),
        ("dana", "fintech"),
        ("shopeepay", "fintech"),
        ("kredivo", "fintech"),
        ("linkaja", "fintech"),
        ("jenius", "fintech"),
        ("mytelkomsel", "app"),
        ("tokopedia", "app"),
        ("shopee", "app"),
        ("bukalapak", "app"),
        ("lazada", "app"),
        ("blibli", "app"),
    ],
)
def test_channel_group(channel: str, group: str) -> None:
    assert channel_group(channel) == group
    assert _valid(validate_channel(channel)).value == channel  # canonical value accepted


def test_channel_group_unknown() -> None:
    with pytest.raises(ValueError):
        channel_group("alfamidi")


# --------------------------------------------------------------------------- serial number

SN_GOOD = [
    SN,
    "0215 1234 5678 9012 3456 78901",
    "0215-1234-5678-9012-3456-78901",
    "0215.1234.5678.9012.3456.78901",
    "02151\u200b23456789012345678901",  # zero-width space
    "\u200c0215123456789012345678901\u200d",
    "\ufeff0215123456789012345678901",
    "0215\u00a01234567890123456789 01",  # NBSP
    "SN: 0215123456789012345678901",
    "sn 0215 1234 5678 9012 3456 78901",
    "０２１５１２３４５６７８９０１２３４５６７８９０１",  # full-width digits
]


@pytest.mark.parametrize("text", SN_GOOD)
def test_serial_number_good(text: str) -> None:
    assert _valid(validate_serial_number(text)).value == SN


SN_BAD = [
    (SN[:-1], ["25 digit", "24 digit"]),
    (SN + "2", ["25 digit", "26 digit"]),
    ("03" + SN[2:], ["02", "03"]),
    ("0315 1234 5678", ["25 digit", "02"]),
    ("0215abc", ["angka"]),
    ("abc", ["angka"]),
]


@pytest.mark.parametrize(("text", "fragments"), SN_BAD)
def test_serial_number_bad(text: str, fragments: List[str]) -> None:
    reason = _invalid(validate_serial_number(text)).reason
    for fragment in fragments:
        assert fragment in reason
    assert "penjual/mitra" in reason  # SOP: ask the seller/channel for the right SN


def test_serial_number_reason_text() -> None:
    assert _invalid(validate_serial_number(SN[:-1])).reason == (
        "Serial number harus 25 digit (yang diberikan 24 digit). Minta pelanggan menanyakan "
        "SN yang sesuai format ke penjual/mitra tempat membeli."
    )


# --------------------------------------------------------------------------- identifiers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("abc12345", "ABC12345"),
        ("TRX-2026-11-21_0001", "TRX-2026-11-21_0001"),
        ("a1b2c3d4e5f6", "A1B2C3D4E5F6"),
        ("ID transaksi: abc12345", "ABC12345"),
        ("trx id ab12cd34ef", "AB12CD34EF"),
        ("1" * 40, "1" * 40),
    ],
)
def test_transaction_id_good(text: str, expected: str) -> None:
    assert _valid(validate_transaction_id(text)).value == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("abc 12345", "spasi"),
        ("abc12😀345", "hanya boleh"),
        ("abc.12345", "hanya boleh"),
        ("a1b2c3", "8-40"),
        ("1" * 41, "8-40"),
        ("ABCDEFGHIJ", "angka"),
    ],
)
def test_transaction_id_bad(text: str, fragment: str) -> None:
    assert fragment in _invalid(validate_transaction_id(text)).reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gol-123456", "GOL-123456"),
        ("GOL20261121ABC", "GOL20261121ABC"),
        ("order id: ab12cd", "AB12CD"),
        ("123456", "123456"),
    ],
)
def test_order_id_good(text: str, expected: str) -> None:
    assert _valid(validate_order_id(text)).value == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("ab12", "6-40"),
        ("a" * 30 + "1" * 11, "6-40"),
        ("gol_123456", "hanya boleh"),
        ("gol 123456", "spasi"),
        ("abcdefgh", "angka"),
    ],
)
def test_order_id_bad(text: str, fragment: str) -> None:
    assert fragment in _invalid(validate_order_id(text)).reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1192187997", "1192187997"),
        ("300107201-003092947", "300107201-003092947"),
        ("300107201 - 003092947", "300107201-003092947"),
        ("SID: 657374232", "657374232"),
        ("123456", "123456"),
    ],
)
def test_sid_good(text: str, expected: str) -> None:
    assert _valid(validate_sid(text)).value == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("12345", "6-30"),
        ("1" * 31, "6-30"),
        ("12-34-56", "satu tanda"),
        ("SID12345A", "angka"),
    ],
)
def test_sid_bad(text: str, fragment: str) -> None:
    assert fragment in _invalid(validate_sid(text)).reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4861675", "4861675"),
        ("4937188", "4937188"),
        ("account number 4861675", "4861675"),
        ("12345", "12345"),
        ("1" * 15, "1" * 15),
    ],
)
def test_account_number_good(text: str, expected: str) -> None:
    assert _valid(validate_account_number(text)).value == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("1234", "5-15"), ("1" * 16, "16 digit"), ("48616A5", "angka"), ("abc", "angka")],
)
def test_account_number_bad(text: str, fragment: str) -> None:
    assert fragment in _invalid(validate_account_number(text)).reason


# --------------------------------------------------------------------------- e-mail


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("budi@gmail.com", "budi@gmail.com"),
        ("Budi.Santoso@Gmail.COM", "Budi.Santoso@gmail.com"),
        ("emailnya budi_s+cs@yahoo.co.id ya kak", "budi_s+cs@yahoo.co.id"),
        ("budi @ gmail.com", "budi@gmail.com"),
        ("email: budi@telkomsel.co.id.", "budi@telkomsel.co.id"),
    ],
)
def test_email_good(text: str, expected: str) -> None:
    assert _valid(validate_email(text)).value == expected


def test_email_domain_typo_gets_a_note() -> None:
    result = _valid(validate_email("budi@gmail.con"))
    assert result.note is not None and "gmail.com" in result.note


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("budi", "tanda @"),
        ("budi@gmail", "tidak valid"),
        ("budi@@gmail.com", "tidak valid"),
        (".budi@gmail.com", "tidak valid"),
        ("bu..di@gmail.com", "tidak valid"),
        ("a@b.com atau c@d.com", "2 alamat email"),
    ],
)
def test_email_bad(text: str, fragment: str) -> None:
    assert fragment in _invalid(validate_email(text)).reason


# --------------------------------------------------------------------------- courier / delivery


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jne", "jne"),
        ("JNE YES", "jne"),
        ("j&t", "jnt"),
        ("J&T Express", "jnt"),
        ("j n t", "jnt"),
        ("jnt", "jnt"),
        ("sicepat", "sicepat"),
        ("si cepat", "sicepat"),
        ("anteraja", "anteraja"),
        ("gosend", "gosend"),
        ("gojek send", "gosend"),
        ("go-send", "gosend"),
        ("grab express", "grabexpress"),
        ("grabexpress", "grabexpress"),
        ("paxel", "paxel"),
        ("pos indonesia", "pos_indonesia"),
        ("tiki", "tiki"),
        ("ninja xpress", "ninja"),
        ("lion parcel", "lion_parcel"),
        ("wahana", "wahana"),
        ("kurirnya jne kak", "jne"),
    ],
)
def test_courier_good(text: str, expected: str) -> None:
    result = _valid(validate_courier(text))
    assert result.value == expected and result.note is None


def test_courier_unknown_but_plausible_is_kept_with_note() -> None:
    result = _valid(validate_courier("  Kurir Toko Sendiri "))
    assert result.value == "Kurir Toko Sendiri"
    assert result.note is not None


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("jne atau j&t", "lebih dari satu"),
        ("12345", "tidak dikenali"),
        ("kurir " + "x" * 60, "tidak dikenali"),
    ],
)
def test_courier_bad(text: str, fragment: str) -> None:
    assert fragment in _invalid(validate_courier(text)).reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("reguler", "reguler"),
        ("regular", "reguler"),
        ("reg", "reguler"),
        ("biasa", "reguler"),
        ("standar", "reguler"),
        ("pengiriman reguler", "reguler"),
        ("instant", "instant"),
        ("instan", "instant"),
    ],
)
def test_delivery_type_good(text: str, expected: str) -> None:
    assert _valid(validate_delivery_type(text)).value == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("reguler atau instant", "lebih dari satu"),
        ("kargo", "tidak dikenali"),
        # other services the page does not name: never mapped onto instant
        ("same day", "konfirmasi ke TL"),
        ("sameday", "konfirmasi ke TL"),
        ("2 jam", "konfirmasi ke TL"),
        ("express", "konfirmasi ke TL"),
        ("kilat", "konfirmasi ke TL"),
    ],
)
def test_delivery_type_bad(text: str, fragment: str) -> None:
    reason = _invalid(validate_delivery_type(text)).reason
    assert fragment in reason


# --------------------------------------------------------------------------- layanan / imes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("voice", "voice"),
        ("telepon", "voice"),
        ("telpon", "voice"),
        ("nelpon", "voice"),
        ("call", "voice"),
        ("suara", "voice"),
        ("sms", "sms"),
        ("SMS", "sms"),
        ("pesan", "sms"),
        ("data", "data"),
        ("internet", "data"),
        ("inet", "data"),
        ("kuota", "data"),
        ("semua", "semua"),
        ("semuanya", "semua"),
        ("all", "semua"),
        ("total", "semua"),
        ("telepon dan sms", ["voice", "sms"]),
        ("internet sama telpon", ["voice", "data"]),
        ("sms, data", ["sms", "data"]),
        ("voice sms data", "semua"),
        ("nelpon, sms, inet", "semua"),
        ("sms dan semuanya", "semua"),
    ],
)
def test_layanan_good(text: str, expected: Any) -> None:
    assert _valid(validate_layanan(text)).value == expected


def test_layanan_bad() -> None:
    assert "voice" in _invalid(validate_layanan("tv kabel")).reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("radio", "radio"),
        ("radio ip", "radio"),
        ("vsat", "vsat"),
        ("VSAT", "vsat"),
        ("v-sat", "vsat"),
        ("seat management", "seat_management"),
        ("seat mgmt", "seat_management"),
        ("SM", "seat_management"),
        ("seat_management", "seat_management"),
    ],
)
def test_imes_product_good(text: str, expected: str) -> None:
    assert _valid(validate_imes_product(text)).value == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("radio dan vsat", "lebih dari satu"),
        ("", "kosong"),
        ("???", "huruf atau angka"),
        ("kemarin", "tidak dikenali"),
        ("belum bayar tagihan", "tidak dikenali"),
    ],
)
def test_imes_product_bad(text: str, fragment: str) -> None:
    assert fragment in _invalid(validate_imes_product(text)).reason


# --------------------------------------------------------------------------- gol / callback

GOL_CASES = [
    "pending_verification",
    "pending_payment",
    "activation_in_progress",
    "activation_incident",
    "pending_perso",
    "delivery_init",
    "delivery_in_progress",
    "completed",
    "cancelled_sla",
    "delivery_incident",
    "benefit_belum_didapat",
    "nomor_tidak_bisa_digunakan",
    "tidak_bisa_submit_order_psb",
    "aktivasi_psb_gagal",
    "bonus_tidak_sesuai",
    "order_id_tidak_ditemukan",
    "gagal_bayar",
    "gagal_upload_foto",
    "kelurahan_tidak_muncul",
]


def test_gol_case_vocabulary_is_the_contract() -> None:
    assert [t.value for t in vocabulary().gol_cases] == GOL_CASES


@pytest.mark.parametrize("value", GOL_CASES)
def test_gol_case_accepts_canonical_value(value: str) -> None:
    assert _valid(validate_gol_case(value)).value == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pending perso", "pending_perso"),
        ("perso", "pending_perso"),
        ("status pending verifikasi", "pending_verification"),
        ("menunggu pembayaran", "pending_payment"),
        ("aktivasi in progress", "activation_in_progress"),
        ("activation incident", "activation_incident"),
        ("delivery init", "delivery_init"),
        ("sedang dikirim", "delivery_in_progress"),
        ("status completed", "completed"),
        ("cancel sla", "cancelled_sla"),
        ("delivery incident", "delivery_incident"),
        ("status delivery incident", "delivery_incident"),
        ("paket nyangkut di kurir", "delivery_incident"),
        ("benefit blm masuk", "benefit_belum_didapat"),
        ("nomor gak bisa dipake", "nomor_tidak_bisa_digunakan"),
        ("ga bisa submit order psb", "tidak_bisa_submit_order_psb"),
        ("aktivasi psb gagal", "aktivasi_psb_gagal"),
        ("bonus ga sesuai", "bonus_tidak_sesuai"),
        ("order id ga ketemu", "order_id_tidak_ditemukan"),
        ("gagal bayar", "gagal_bayar"),
        ("gak bisa upload foto", "gagal_upload_foto"),
        ("tidak bisa upload foto", "gagal_upload_foto"),
        ("kelurahan ga muncul", "kelurahan_tidak_muncul"),
        ("kecamatan tdk muncul", "kelurahan_tidak_muncul"),
    ],
)
def test_gol_case_agent_wording(text: str, expected: str) -> None:
    assert _valid(validate_gol_case(text)).value == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("pending perso dan delivery incident", "lebih dari satu"),
        ("cuaca hari ini", "tidak dikenali"),
    ],
)
def test_gol_case_bad(text: str, fragment: str) -> None:
    assert fragment in _invalid(validate_gol_case(text)).reason


CALLBACK_CASES = [
    "pelurusan_informasi",
    "call_terputus",
    "call_hening",
    "info_produk_belum_ada",
    "case_abu_abu",
]


@pytest.mark.parametrize("value", CALLBACK_CASES)
def test_callback_case_accepts_canonical_value(value: str) -> None:
    assert _valid(validate_callback_case(value)).value == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call putus", "call_terputus"),
        ("terputus", "call_terputus"),
        ("telepon putus di tengah", "call_terputus"),
        ("hening", "call_hening"),
        ("avaya hening", "call_hening"),
        ("salah info", "pelurusan_informasi"),
        ("salah info paket", "pelurusan_informasi"),
        ("pelurusan info", "pelurusan_informasi"),
        ("pelurusan informasi", "pelurusan_informasi"),
        ("produk belum ada di kms", "info_produk_belum_ada"),
        ("case abu abu", "case_abu_abu"),
        ("case abu-abu", "case_abu_abu"),
        ("grey area", "case_abu_abu"),
    ],
)
def test_callback_case_agent_wording(text: str, expected: str) -> None:
    assert _valid(validate_callback_case(text)).value == expected


def test_callback_case_bad() -> None:
    assert "tidak dikenali" in _invalid(validate_callback_case("minta pulsa gratis")).reason


# --------------------------------------------------------------------------- event time

EVENT_GOOD = [
    ("kemarin jam 3 sore", NOW, "2026-11-21T15:00:00+07:00", None),
    ("22/11/2026 08:30", NOW, "2026-11-22T08:30:00+07:00", None),
    ("2026-11-21T15:00:00+07:00", NOW, "2026-11-21T15:00:00+07:00", None),
    # a day part without a clock time: the day part's hours, capped at now
    ("tadi pagi", NOW, "2026-11-22T05:00:00+07:00/2026-11-22T10:00:00+07:00", "bagian hari"),
    # a date without the hour is the whole day (up to now), never 00:00
    ("20/11", NOW, "2026-11-20T00:00:00+07:00/2026-11-20T23:59:00+07:00", "Hanya tanggal"),
    ("kemarin", NOW, "2026-11-21T00:00:00+07:00/2026-11-21T23:59:00+07:00", "Hanya tanggal"),
    ("tadi", NOW, "2026-11-22T00:00:00+07:00/2026-11-22T10:00:00+07:00", "Hanya tanggal"),
    ("hari ini", NOW, "2026-11-22T00:00:00+07:00/2026-11-22T10:00:00+07:00", "Hanya tanggal"),
    ("jam 3", NOW, "2026-11-22T03:00:00+07:00", "24 jam"),
    ("hari ini jam 10.01 pagi", NOW, "2026-11-22T10:01:00+07:00", None),  # 1 min clock skew
    ("23/11/2025", NOW, "2025-11-23T00:00:00+07:00/2025-11-23T23:59:00+07:00", "Hanya tanggal"),
    ("kemarin jam 12 malam", NOW_EARLY, "2026-11-22T00:00:00+07:00", None),
    ("jam 12 malam", NOW_EARLY, "2026-11-22T00:00:00+07:00", None),
    ("tadi malam", NOW_EARLY, "2026-11-21T18:00:00+07:00/2026-11-21T23:59:00+07:00", "bagian"),
]


@pytest.mark.parametrize(("text", "now", "iso", "note"), EVENT_GOOD)
def test_event_time_good(text: str, now: datetime, iso: str, note: str | None) -> None:
    result = _valid(validate_event_time(text, now))
    assert result.value == iso
    if note is None:
        assert result.note is None
    else:
        assert result.note is not None and note in result.note


EVENT_BAD = [
    # a clock time without a date that has not come yet today: asked, not assumed yesterday
    ("jam 9 malam", NOW, "belum lewat hari ini"),
    ("21.30", NOW, "belum lewat hari ini"),
    ("jam 23.50", NOW_EARLY, "belum lewat hari ini"),
    ("hari ini jam 9 malam", NOW, "masa depan"),
    ("hari ini jam 10.05", NOW, "masa depan"),
    ("hari ini jam 10.02 pagi", NOW, "masa depan"),
    ("besok", NOW, "masa depan"),
    ("lusa jam 3 sore", NOW, "masa depan"),
    ("25/11/2026", NOW, "masa depan"),
    ("23 november 2026 jam 9 pagi", NOW, "masa depan"),
    ("tadi siang", NOW, "masa depan"),
    ("hari ini jam 1 siang", NOW_EARLY, "masa depan"),
    ("2025-01-01", NOW, "1 tahun"),
    ("21/11/2025 10:00", NOW, "1 tahun"),
    ("kemarin jam 25", NOW, "tidak terbaca"),
    ("pulsa belum masuk", NOW, "tidak terbaca"),
    ("minggu lalu", NOW, "tidak terbaca"),
]


@pytest.mark.parametrize(("text", "now", "fragment"), EVENT_BAD)
def test_event_time_bad(text: str, now: datetime, fragment: str) -> None:
    assert fragment in _invalid(validate_event_time(text, now)).reason


def test_event_time_future_reason_shows_the_times() -> None:
    reason = _invalid(validate_event_time("hari ini jam 9 malam", NOW)).reason
    assert "22-11-2026 21:00 WIB" in reason and "22-11-2026 10:00 WIB" in reason


def test_event_time_with_utc_now_and_makassar_agents(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_TZ", "Asia/Makassar")
    now = datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc)  # 10:00 WITA
    assert _valid(kinds.validate("event_time", "kemarin jam 3 sore", now)).value == (
        "2026-11-21T15:00:00+08:00"
    )
    reason = _invalid(kinds.validate("event_time", "hari ini jam 9 malam", now)).reason
    assert "WITA" in reason


def test_event_time_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        validate_event_time("kemarin", datetime(2026, 11, 22, 10, 0))


# --------------------------------------------------------------------------- vocabulary


def test_vocabulary_is_loaded_from_the_sop_folder() -> None:
    assert VOCABULARY_PATH.name == "vocabulary.yaml"
    assert VOCABULARY_PATH.parent.name == "sop"
    assert VOCABULARY_PATH.is_file()
    assert vocabulary() is vocabulary()  # loaded once


@pytest.mark.parametrize(
    ("text", "negation"),
    [
        ("blm ada", True),
        ("ga", True),
        ("gak ada", True),
        ("0812-3456-7890", False),
        ("-", False),
        ("konter pulsa", False),
        ("belum ada di kms", False),
    ],
)
def test_only_negation(text: str, negation: bool) -> None:
    assert only_negation(text) is negation


@pytest.mark.parametrize(
    ("text", "way_out"),
    [
        ("pelanggan tidak punya SN", True),
        ("SN kehapus", True),
        ("gak tau", True),
        ("lupa", True),
        ("tidak ada", True),
        ("0215123456789012345678901", False),
        ("sn 0215123456789012345678901 tidak ada spasi", False),
        ("indomaret", False),
    ],
)
def test_is_no_value(text: str, way_out: bool) -> None:
    assert is_no_value(text) is way_out
