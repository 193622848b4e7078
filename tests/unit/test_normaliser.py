"""The shared Indonesian normaliser: slang, canonical values, identifiers by context, masking."""

from __future__ import annotations

import pytest
import yaml

from sop_engine import normaliser
from sop_engine.normaliser import Canonical, canonical, identifier_entity, mask_text, words


def test_one_slang_table_for_tokenizer_and_validators():
    vocab = yaml.safe_load(normaliser.VOCABULARY_PATH.read_text(encoding="utf-8"))
    assert "slang" not in vocab  # the table lives in sop_engine/slang.yaml only
    assert normaliser.vocabulary().slang == normaliser.normalizer().slang
    from nlu_components.indonesian_tokenizer import DEFAULT_SLANG_FILE

    assert DEFAULT_SLANG_FILE == normaliser.SLANG_PATH


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Udh GK bisa dipake!!", "sudah tidak bisa dipakai"),
        ("pulsanya blm msk", "pulsa belum masuk"),
        ("makasiiih", "makasih"),
        ("", ""),
        ("<script>", "script"),
    ],
)
def test_words(text: str, expected: str):
    assert words(text) == expected


@pytest.mark.parametrize(
    ("entity", "text", "expected"),
    [
        ("channel", "alfa", Canonical("alfamart", True)),
        ("channel", "M-Kios", Canonical("mkios", True)),
        ("channel", "gopay di mytsel", Canonical("gopay", True, ("mytelkomsel",))),
        ("channel", "gopay", Canonical("gopay", True)),
        ("gol_case", "pending perso", Canonical("pending_perso", True)),
        ("gol_case", "pending_perso", Canonical("pending_perso", True)),
        ("callback_case", "call putus", Canonical("call_terputus", True)),
        ("layanan", "nelpon", Canonical("voice", True)),
        ("imes_product", "V-SAT", Canonical("vsat", True)),
        ("channel", "warung  pak   budi", Canonical("warung pak budi", False)),
        ("gol_case", "'; DROP TABLE x; --", Canonical("'; DROP TABLE x; --", False)),
    ],
)
def test_canonical(entity: str, text: str, expected: Canonical):
    assert canonical(entity, text) == expected


def test_canonical_of_entities_without_vocabulary_is_none():
    assert canonical("msisdn", "081234567890") is None
    assert canonical("unknown", "x") is None


@pytest.mark.parametrize(
    ("entity", "value", "before", "expected"),
    [
        ("sid", "OID/77120-AB", "id pesanan ", "order_id"),
        ("sid", "GRP-2411-000871", "plg kasih kode ", "order_id"),  # letters: not a SID
        ("account_number", "B2C-9981-22", "", "order_id"),
        ("sid", "441122", "sid: 55012345 / akun ", "account_number"),
        ("account_number", "55012345", "sid: ", "sid"),
        ("order_id", "88120044", "trx ", "transaction_id"),
        ("sid", "99812301", "id transaksi: ", "transaction_id"),
        ("account_number", "7781234", "ref ", "transaction_id"),
        ("sid", "55012345", "imes plg ", "sid"),  # no label, digits: unchanged
        ("transaction_id", "MT2311", "", "transaction_id"),
        ("msisdn", "081234567890", "trx ", "msisdn"),  # only identifiers are re-labelled
    ],
)
def test_identifier_entity(entity: str, value: str, before: str, expected: str):
    assert identifier_entity(entity, value, before) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no 0812 3456 7890 ya", "no 0812 **** *890 ya"),
        ("+6281234567890", "+62812*****890"),
        ("budi.s@gmail.com", "b***@gmail.com"),
        ("sn 0215123456789012345678901", "sn 021512***************8901"),
        ("nominal 50000, sid 55012345", "nominal 50000, sid 55012345"),
    ],
)
def test_mask_text(text: str, expected: str):
    assert mask_text(text) == expected


@pytest.mark.parametrize(
    ("entity", "value", "short"),
    [
        ("sid", "11", True),
        ("sid", "55012345", False),
        ("account_number", "4411", True),
        ("transaction_id", "TRX-12", True),
        ("transaction_id", "DN2311250099871", False),
        ("order_id", "GO/12", True),
        ("msisdn", "08", False),  # not an identifier of this kind
    ],
)
def test_identifier_too_short(entity: str, value: str, short: bool):
    assert normaliser.identifier_too_short(entity, value) is short


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("kredifo", "kredivo", True),  # replaced
        ("lnkaja", "linkaja", True),  # dropped
        ("jenniuss", "jenius", False),  # two added
        ("jenuis", "jenius", True),  # swapped
        ("shopee", "shopee", False),  # equal: not a typo
        ("", "a", True),
        ("", "", False),
        ("abc", "cba", False),
    ],
)
def test_one_edit_apart(a: str, b: str, expected: bool):
    assert normaliser.one_edit_apart(a, b) is expected
    assert normaliser.one_edit_apart(b, a) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pake kredifo", ["kredivo"]),
        ("saldo 0V0 tp", ["ovo"]),
        ("link aja", ["linkaja"]),
        ("alfamrat lalu jenuis", ["alfamart", "jenius"]),
        ("gopay", []),  # spelt right: the extractors' business
        ("tagihan", []),
        ("", []),
        ("<script>alert(1)</script>", []),
        ("x" * 10_000, []),
    ],
)
def test_find_misspelled_channel(text: str, expected: list):
    assert normaliser.matcher("channels").find_misspelled(text) == expected
