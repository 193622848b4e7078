"""End-to-end NLU checks on a TRAINED model: intents and normalised entity values.

Loads the model with `rasa.core.agent.Agent.load` and parses agent-style messages with
`await agent.parse_message(text)`. Model: $NLU_TEST_MODEL, else models/assistant.tar.gz, else
the newest models/*.tar.gz; the model tests are skipped when there is none yet, or when it is
older than config.yml / data/nlu / nlu_components (run `make train` first).

The messages below are fresh (not in data/nlu/ nor tests/nlu/heldout.yml; a test checks it).
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any, Dict, Iterable, List, Set

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _find_model() -> Path | None:
    env = os.environ.get("NLU_TEST_MODEL")
    if env:
        return Path(env) if Path(env).exists() else None
    preferred = ROOT / "models" / "assistant.tar.gz"
    if preferred.exists():
        return preferred
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


# ------------------------------------------------------------------ test messages
# one fresh message per gol_case value -> (text, canonical value)
GOL_CASES = {
    "pending_verification": "plg ganti kartu lewat GOL, pending verification udh 10 jam",
    "pending_payment": "order GOL masih pending payment, plg mau bayar pake dana",
    "activation_in_progress": "kartu halo dr grapari online activation in progress dari kemarin",
    "activation_incident": "GOL plg kena activation incident waktu aktivasi paket",
    "pending_perso": "order GOL nyangkut di pending perso kak",
    "delivery_init": "order grapari online plg delivery init, kurir blm pickup",
    "delivery_in_progress": "pesanan GOL plg delivery in progress, kapan nyampe",
    "completed": "order grapari online udah completed tp kartunya blm diaktifin",
    "cancelled_sla": "order GOL cancelled sla krn plg telat bayar",
    "delivery_incident": "GOL delivery incident, kurir blm dateng2",
    "benefit_belum_didapat": "perdana dari grapari online udh aktif tp benefit blm didapat",
    "nomor_tidak_bisa_digunakan": "kartu dari GOL udh registrasi tp nomor gak bisa dipakai",
    "tidak_bisa_submit_order_psb": "plg halo ga bisa submit order psb di grapari online",
    "aktivasi_psb_gagal": "grapari online aktivasi psb gagal terus kak",
    "bonus_tidak_sesuai": "order GOL kuota bonus ga sesuai kak",
    "order_id_tidak_ditemukan": "plg order GOL tp order id tidak ditemukan di dsc",
    "gagal_bayar": "order grapari online gagal bayar pake ovo",
    "gagal_upload_foto": "order GOL plg gak bisa upload foto ktp dari pagi",
    "kelurahan_tidak_muncul": "pas order GOL kelurahan gak muncul kak",
}

# the channel nicknames of the issue (and one per other canonical value)
CHANNELS = [
    ("cust isi pulsa 50rb di alfa blm masuk", {"alfamart"}),
    ("plg beli pulsa lewat tokped, pulsanya gk nambah", {"tokopedia"}),
    ("beli paket di mytsel pake gopay kuota blm masuk", {"mytelkomsel", "gopay"}),
    ("topup via m-kios 25rb belum masuk kak", {"mkios"}),
    ("isi pulsa pake BCA mobile saldo udh kepotong pulsa blm masuk", {"bank"}),
    ("plg bayar pulsa pake livin, pulsa ga nambah2", {"bank"}),
    ("topup lewat brimo 100k blm masuk", {"bank"}),
    ("cust isi ulang 20rb via gopay saldo kepotong pls gk nambah", {"gopay"}),
    ("isi pulsa di indomaret struk ada tp pulsa blm msk", {"indomaret"}),
    ("pulsa blm nambah pdhl bayar pake ovo", {"ovo"}),
    ("plg beli pulsa pake dana, saldo kepotong, pulsa nihil", {"dana"}),
    ("isi pulsa via shopeepay sukses tp pulsa ga masuk", {"shopeepay"}),
    ("topup pake linkaja blm masuk2", {"linkaja"}),
    ("beli pulsa via kredivo tp blm nambah", {"kredivo"}),
    ("plg isi pulsa lewat jenius, pulsa blm masuk", {"jenius"}),
    ("beli pulsa di kantor pos tp ga masuk", {"pos_indonesia"}),
    ("isi pulsa di pegadaian blm bertambah", {"pegadaian"}),
    ("voucher fisik udh diisi tp pulsa ga nambah", {"voucher_fisik"}),
    ("beli pulsa di shopee pulsanya ga masuk2", {"shopee"}),
    ("beli paket di bukalapak kuota blm masuk", {"bukalapak"}),
    ("topup pulsa di lazada status sukses tp ga masuk", {"lazada"}),
    ("beli pulsa lewat blibli blm masuk kak", {"blibli"}),
]

CALLBACK_CASES = {
    "pelurusan_informasi": "aku salah info tarif ke plg, mau callback",
    "call_terputus": "call putus pas plg lagi nyebutin nomor",
    "call_hening": "plg nelpon tp hening aja, perlu callback?",
    "info_produk_belum_ada": "plg nanya promo yg belum ada di kms",
    "case_abu_abu": "ini case abu-abu kak, TL jg bingung",
}

# the agent answers a form with only the value: inform, never out_of_scope
FORM_VALUES = [
    "0812 3456 7890",
    "50rb",
    "gopay",
    "0215123456789012345678901",
    "kemarin jam 3 sore",
    "reguler",
    "JNE",
    "budi@gmail.com",
    "GOL-2311-88812",
]
AFFIRM = ["ya", "iya sdh", "udah muncul", "ada"]
DENY = ["belum", "blm bertambah", "gak ada", "tidak"]

ISSUE_MESSAGES = {
    "plg udh byr tp no msh keblokir": "nomor_belum_aktif_setelah_bayar",
    "pending perso?": "grapari_online",
    "cust topup 100k via dana saldo kepotong pulsa gk nambah": "pulsa_belum_masuk",
    "status delivery incident gmn handlingnya": "grapari_online",
    "minta password sms blast": "request_credentials",
    "login TOS apa": "request_credentials",
    "username ncx dong": "request_credentials",
    "akun splunk": "request_credentials",
}

# entity -> (message, expected value after normalisation)
FREE_TEXT = [
    ("no plg +62 812-3456-7890 pulsa blm masuk", "msisdn", "+62 812-3456-7890"),
    ("nomornya 0812 3456 7890 isi 50rb", "msisdn", "0812 3456 7890"),
    ("msisdn 6285212345678 udh bayar tagihan tp msh keblokir", "msisdn", "6285212345678"),
    ("no 0813-1234-5678 pulsa gk nambah", "msisdn", "0813-1234-5678"),
    ("isi Rp 50.000 via alfa blm masuk", "nominal", "Rp 50.000"),
    ("topup seratus ribu lewat ovo blm masuk", "nominal", "seratus ribu"),
    ("isi pulsa 100k ga masuk2", "nominal", "100k"),
    (
        "sn nya 0215123456789012345678901 pulsa blm masuk",
        "serial_number",
        "0215123456789012345678901",
    ),
    (
        "trx id MT23112200012345 beli paket pake gopay blm masuk",
        "transaction_id",
        "MT23112200012345",
    ),
    ("order id GOL-2311-88812 pending perso", "order_id", "GOL-2311-88812"),
    (
        "email plg Budi.Santoso@gmail.com order GOL gagal upload foto",
        "email",
        "Budi.Santoso@gmail.com",
    ),
    ("SID 835221950 tagihan vsat ga bisa dibayar", "sid", "835221950"),
    ("acc number 4861675 tagihan jastel ga bisa dibayar", "account_number", "4861675"),
    ("isi pulsa kemarin jam 3 sore blm masuk", "time_expression", "kemarin jam 3 sore"),
    ("GOL delivery incident, kurir j&t pengiriman instan", "courier", "jnt"),
    ("GOL delivery incident, kurir j&t pengiriman instan", "delivery_type", "instant"),
    ("order GOL pending perso pengiriman reguler pake sicepat", "delivery_type", "reguler"),
    ("udh bayar tagihan tp ga bisa nelpon", "layanan", "voice"),
    ("plg halo udh bayar tp internet msh mati", "layanan", "data"),
    ("tagihan seat management plg korporat ga bisa dibayar", "imes_product", "seat_management"),
    ("tagihan jastel radio ip ga bisa dibayar, sid 738291045", "imes_product", "radio"),
]


# identifiers named by their shape and the words in front of them -> expected (entity, value)
IDENTIFIERS = [
    ("order GOL plg kode pesanannya WEB-7781-AC02 blm diproses", {("order_id", "WEB-7781-AC02")}),
    ("no pesanan GO/5521/88013 statusnya apa kak", {("order_id", "GO/5521/88013")}),
    (
        "imes plg sid 77120034 akun 5512093 ga bisa bayar",
        {("sid", "77120034"), ("account_number", "5512093")},
    ),
    ("beli paket pake dana trx 99120045512 blm masuk", {("transaction_id", "99120045512")}),
]

# described, not named: a case value the vocabulary has no synonym for
DESCRIBED = [
    (
        "order gol plg, paketnya dibawa kurir tp nyasar ke kota lain",
        "gol_case",
        "delivery_incident",
    ),
    ("plg pas ditelpon diem aja ga ada suaranya", "callback_case", "call_hening"),
]


def _all_texts() -> List[str]:
    texts: List[str] = list(GOL_CASES.values()) + [t for t, _ in CHANNELS]
    texts += [t for t, _ in IDENTIFIERS] + [t for t, _, _ in DESCRIBED]
    texts += list(CALLBACK_CASES.values()) + FORM_VALUES + AFFIRM + DENY
    texts += list(ISSUE_MESSAGES) + [t for t, _, _ in FREE_TEXT]
    return list(dict.fromkeys(texts))


def _plain_examples(paths: Iterable[Path]) -> Set[str]:
    out: Set[str] = set()
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line.startswith("- ") and not line.startswith("- intent"):
                text = re.sub(r"\[([^\]]+)\](\([^)]+\)|\{[^}]+\})", r"\1", line[2:])
                out.add(text.strip().lower())
    return out


def test_case_messages_are_fresh():
    """The gol_case / channel / callback / free-text messages are not training examples."""
    data = [p for p in (ROOT / "data" / "nlu").glob("*.yml") if p.name != "synonyms.yml"]
    seen = _plain_examples(data + [ROOT / "tests" / "nlu" / "heldout.yml"])
    fresh = list(GOL_CASES.values()) + [t for t, _ in CHANNELS] + list(CALLBACK_CASES.values())
    fresh += [t for t, _, _ in FREE_TEXT]
    fresh += [t for t, _ in IDENTIFIERS] + [t for t, _, _ in DESCRIBED]
    assert [t for t in fresh if t.lower() in seen] == []


# ------------------------------------------------------------------ model fixture
def _newest_nlu_input() -> float:
    paths = [ROOT / "config.yml", *(ROOT / "data" / "nlu").glob("*.yml")]
    paths += [*(ROOT / "nlu_components").glob("*.py"), *(ROOT / "nlu_components").glob("*.yaml")]
    paths += [ROOT / "sop_engine" / "normaliser.py", ROOT / "sop_engine" / "slang.yaml"]
    return max((p.stat().st_mtime for p in paths if p.exists()), default=0.0)


@pytest.fixture(scope="module")
def parsed() -> Dict[str, Dict[str, Any]]:
    model = _find_model()
    if model is None:
        pytest.skip(
            "no trained model: run `make train` (models/assistant.tar.gz) or set NLU_TEST_MODEL"
        )
    if "NLU_TEST_MODEL" not in os.environ and model.stat().st_mtime < _newest_nlu_input():
        pytest.skip(f"{model} is older than config.yml / data/nlu / nlu_components: `make train`")
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    async def parse_all() -> Dict[str, Dict[str, Any]]:
        return {text: await agent.parse_message(text) for text in _all_texts()}

    return asyncio.run(parse_all())


def intent(result: Dict[str, Any]) -> str:
    return result["intent"]["name"]


def values(result: Dict[str, Any], entity: str) -> List[Any]:
    return [e["value"] for e in result.get("entities", []) if e["entity"] == entity]


@pytest.mark.parametrize("value", sorted(GOL_CASES))
def test_every_gol_case_value(parsed, value: str):
    result = parsed[GOL_CASES[value]]
    assert intent(result) == "grapari_online", result["intent"]
    assert value in values(result, "gol_case"), result["entities"]


@pytest.mark.parametrize("text, expected", CHANNELS, ids=[t for t, _ in CHANNELS])
def test_every_channel_nickname(parsed, text: str, expected: Set[str]):
    result = parsed[text]
    assert intent(result) == "pulsa_belum_masuk", result["intent"]
    assert set(values(result, "channel")) == expected, result["entities"]


@pytest.mark.parametrize("value", sorted(CALLBACK_CASES))
def test_every_callback_case_value(parsed, value: str):
    result = parsed[CALLBACK_CASES[value]]
    assert intent(result) == "callback", result["intent"]
    assert value in values(result, "callback_case"), result["entities"]


@pytest.mark.parametrize("text", FORM_VALUES)
def test_a_bare_value_is_inform(parsed, text: str):
    assert intent(parsed[text]) == "inform", parsed[text]["intent"]


@pytest.mark.parametrize("text", AFFIRM)
def test_yes_answers_are_affirm(parsed, text: str):
    assert intent(parsed[text]) == "affirm", parsed[text]["intent"]


@pytest.mark.parametrize("text", DENY)
def test_no_answers_are_deny(parsed, text: str):
    assert intent(parsed[text]) == "deny", parsed[text]["intent"]


@pytest.mark.parametrize("text, expected", sorted(ISSUE_MESSAGES.items()))
def test_issue_examples(parsed, text: str, expected: str):
    assert intent(parsed[text]) == expected, parsed[text]["intent"]


@pytest.mark.parametrize(
    "text, entity, expected", FREE_TEXT, ids=[f"{e}:{t}" for t, e, _ in FREE_TEXT]
)
def test_free_text_entities_on_messy_input(parsed, text: str, entity: str, expected: str):
    found = values(parsed[text], entity)
    assert found, parsed[text]["entities"]
    # DIET and the regex extractor may both report an msisdn/SN/email, but always with the
    # same boundaries: one distinct value, never "0812" + "3456 7890"
    assert set(found) == {expected}, parsed[text]["entities"]


def test_two_channels_in_one_message(parsed):
    result = parsed["beli paket di mytsel pake gopay kuota blm masuk"]
    assert sorted(values(result, "channel")) == ["gopay", "mytelkomsel"]


def test_form_values_carry_their_entity(parsed):
    expected = {
        "0812 3456 7890": ("msisdn", "0812 3456 7890"),
        "50rb": ("nominal", "50rb"),
        "gopay": ("channel", "gopay"),
        "0215123456789012345678901": ("serial_number", "0215123456789012345678901"),
        "kemarin jam 3 sore": ("time_expression", "kemarin jam 3 sore"),
        "reguler": ("delivery_type", "reguler"),
        "JNE": ("courier", "jne"),
        "budi@gmail.com": ("email", "budi@gmail.com"),
        "GOL-2311-88812": ("order_id", "GOL-2311-88812"),
    }
    for text, (entity, value) in expected.items():
        assert set(values(parsed[text], entity)) == {value}, (text, parsed[text]["entities"])


@pytest.mark.parametrize("text, expected", IDENTIFIERS, ids=[t for t, _ in IDENTIFIERS])
def test_identifiers_by_shape_and_context(parsed, text: str, expected: Set[tuple]):
    result = parsed[text]
    names = {"order_id", "sid", "account_number", "transaction_id"}
    found = {(e["entity"], e["value"]) for e in result["entities"] if e["entity"] in names}
    assert found == expected, result["entities"]


@pytest.mark.parametrize("text, entity, value", DESCRIBED, ids=[t for t, _, _ in DESCRIBED])
def test_described_case_values(parsed, text: str, entity: str, value: str):
    assert values(parsed[text], entity) == [value], parsed[text]["entities"]


def test_canonical_entities_leave_nlu_with_contract_values(parsed):
    """Every canonical value the model outputs is a contract value or is marked as outside."""
    from sop_engine import normaliser

    wrong = []
    for text, result in parsed.items():
        for e in result.get("entities", []):
            allowed = normaliser.canonical_values(e["entity"])
            if not allowed or e.get("in_vocabulary") is False:
                continue
            if e["value"] not in allowed:
                wrong.append((text, e["entity"], e["value"]))
    assert wrong == []
