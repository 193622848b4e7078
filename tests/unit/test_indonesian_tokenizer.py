"""Unit tests of nlu_components.indonesian_tokenizer (no trained model needed)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

import pytest
import yaml

pytest.importorskip("rasa")
spacy = pytest.importorskip("spacy")

from rasa.engine.recipes.default_recipe import DefaultV1Recipe  # noqa: E402
from rasa.nlu.constants import TOKENS_NAMES  # noqa: E402
from rasa.shared.nlu.constants import TEXT  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402

from nlu_components.indonesian_tokenizer import (  # noqa: E402
    EMAIL_PATTERN,
    MSISDN_PATTERN,
    NEGATIONS,
    SERIAL_NUMBER_PATTERN,
    IndonesianTokenizer,
    NormalisedToken,
    SlangNormalizer,
    load_slang,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tokenizer() -> IndonesianTokenizer:
    return IndonesianTokenizer(IndonesianTokenizer.get_default_config())


def tok(tokenizer: IndonesianTokenizer, text: str) -> List[Tuple[str, str]]:
    tokens = tokenizer.tokenize(Message(data={TEXT: text}), TEXT)
    for token in tokens:  # offsets always point at the original characters
        assert text[token.start : token.end] == token.text
    return [(t.text, t.lemma) for t in tokens]


def lemmas(tokenizer: IndonesianTokenizer, text: str) -> List[str]:
    return [lemma for _, lemma in tok(tokenizer, text)]


# --------------------------------------------------------------------------- slang
@pytest.mark.parametrize(
    "text, expected",
    [
        ("plg udh byr tp no msh keblokir", "pelanggan sudah bayar tapi nomor masih terblokir"),
        ("blm masuk", "belum masuk"),
        ("sdh dicek", "sudah dicek"),
        ("udah", "sudah"),
        ("tdk bisa", "tidak bisa"),
        ("yg dgn tgl jg krn gmn", "yang dengan tanggal juga karena bagaimana"),
        ("cust customer plg", "pelanggan pelanggan pelanggan"),
        ("pls gk nambah", "pulsa tidak bertambah"),
        ("Kak MIN", "kak admin"),
        ("makasiiiih kakkk", "makasih kak"),
        ("pulsanya blm masuk", "pulsa belum masuk"),
        ("abu-abu abu2", "abu abu"),
        ("m-kios", "mkios"),
    ],
)
def test_slang_is_normalised_in_lemma(tokenizer: IndonesianTokenizer, text: str, expected: str):
    assert " ".join(lemmas(tokenizer, text)) == expected


def test_lemma_is_lower_case_but_text_is_original(tokenizer: IndonesianTokenizer):
    tokens = tok(tokenizer, "Pending PERSO Kak")
    assert [t for t, _ in tokens] == ["Pending", "PERSO", "Kak"]
    assert [lemma for _, lemma in tokens] == ["pending", "perso", "kak"]


@pytest.mark.parametrize(
    "word", ["gk", "ga", "gak", "g", "nggak", "ngga", "engga", "enggak", "tdk", "kagak", "ndak"]
)
def test_informal_tidak_becomes_tidak(tokenizer: IndonesianTokenizer, word: str):
    assert lemmas(tokenizer, f"pulsa {word} nambah") == ["pulsa", "tidak", "bertambah"]


@pytest.mark.parametrize("word", ["blm", "blom", "belom", "blum", "belum", "BELUM"])
def test_informal_belum_becomes_belum(tokenizer: IndonesianTokenizer, word: str):
    assert lemmas(tokenizer, f"{word} masuk") == ["belum", "masuk"]


def test_negations_are_never_removed(tokenizer: IndonesianTokenizer):
    # spaCy's Indonesian stop words contain the negations: the tokenizer must not use them
    from spacy.lang.id.stop_words import STOP_WORDS

    assert {"belum", "tidak"} <= STOP_WORDS
    text = "belum tidak bukan jangan gak blm tdk bkn"
    result = lemmas(tokenizer, text)
    assert len(result) == len(text.split())
    assert all(lemma in NEGATIONS for lemma in result)


def test_slang_map_keeps_negations_and_is_never_empty():
    slang, stems = load_slang()
    negation_words = {"blm", "belom", "gk", "ga", "gak", "nggak", "engga", "tdk", "bkn", "jgn"}
    for word in negation_words:
        assert slang[word].split()[0] in NEGATIONS, word
    for key, value in slang.items():
        assert value.strip(), key
        # nothing that is a negation may lose it
        if key in NEGATIONS:
            assert value == key
    assert "no" in slang and slang["no"] == "nomor"  # YAML must not read the key as False
    assert all(isinstance(s, str) for s in stems)


def test_lone_no_is_english_no(tokenizer: IndonesianTokenizer):
    assert lemmas(tokenizer, "no") == ["no"]
    assert lemmas(tokenizer, "no, belum") == ["no", "belum"]
    assert lemmas(tokenizer, "no kak") == ["no", "kak"]
    assert lemmas(tokenizer, "no blm") == ["no", "belum"]
    assert lemmas(tokenizer, "no hp nya") == ["nomor", "hp", "nya"]
    assert lemmas(tokenizer, "no. 0812 3456 7890")[0] == "nomor"


def test_numbers_and_units(tokenizer: IndonesianTokenizer):
    assert tok(tokenizer, "100k") == [("100k", "100 ribu")]
    assert tok(tokenizer, "50rb") == [("50", "50"), ("rb", "ribu")]
    assert tok(tokenizer, "Rp 50.000") == [("Rp", "rp"), ("50.000", "dd.ddd")]
    # long numbers become a length class (SID vs account number vs nominal)
    assert lemmas(tokenizer, "50000 4861675 835221950") == ["numlen5", "numlen7", "numlen9"]
    assert lemmas(tokenizer, "1jt") == ["1", "juta"]
    # a unit glued to a number is not slang: "4g" is not "4 tidak"
    assert lemmas(tokenizer, "4g") == ["4", "g"]
    assert lemmas(tokenizer, "jam 3sore") == ["jam", "3 sore"]


def test_punctuation_is_dropped_but_never_everything(tokenizer: IndonesianTokenizer):
    assert lemmas(tokenizer, "pending perso?") == ["pending", "perso"]
    assert tok(tokenizer, "??") == [("??", "??")]


# ------------------------------------------------------------- protected spans
@pytest.mark.parametrize(
    "text, number",
    [
        ("no 081234567890 ya", "081234567890"),
        ("no 0812 3456 7890 ya", "0812 3456 7890"),
        ("no 0812-3456-7890 ya", "0812-3456-7890"),
        ("no +62 812-3456-7890 ya", "+62 812-3456-7890"),
        ("no +6281234567890 ya", "+6281234567890"),
        ("no 6285212345678 ya", "6285212345678"),
        ("no 62 852 1234 5678 ya", "62 852 1234 5678"),
        ("no 0812-345-678 ya", "0812-345-678"),
        ("no 0812 3456 7890, nominal 50rb", "0812 3456 7890"),
    ],
)
def test_msisdn_is_one_token(tokenizer: IndonesianTokenizer, text: str, number: str):
    texts = [t for t, _ in tok(tokenizer, text)]
    assert number in texts
    assert "0812" not in texts and "3456" not in texts


def test_protected_spans_have_a_kind_lemma(tokenizer: IndonesianTokenizer):
    result = tok(tokenizer, "+62 812-3456-7890 0215123456789012345678901 budi@gmail.com")
    assert [lemma for _, lemma in result] == ["msisdnnum", "serialnum", "emailaddr"]


def test_msisdn_does_not_swallow_a_following_nominal(tokenizer: IndonesianTokenizer):
    texts = [t for t, _ in tok(tokenizer, "0812 3456 7890 50rb")]
    assert texts == ["0812 3456 7890", "50", "rb"]


@pytest.mark.parametrize(
    "text", ["0812 3456 7890 100 ribu", "0812 3456 7890 300 RB", "0812-3456-7890 250 k"]
)
def test_msisdn_stops_before_a_spaced_nominal(tokenizer: IndonesianTokenizer, text: str):
    assert tok(tokenizer, text)[0][0] in ("0812 3456 7890", "0812-3456-7890")


def test_serial_number_email_and_codes_are_one_token(tokenizer: IndonesianTokenizer):
    text = "SN 0215123456789012345678901, email Budi.S@Gmail.com. order GOL-2311-88812"
    result = tok(tokenizer, text)
    texts = [t for t, _ in result]
    assert "0215123456789012345678901" in texts
    assert "Budi.S@Gmail.com" in texts
    assert ("GOL-2311-88812", "gol-0-0") in result


def test_nominal_is_not_an_msisdn(tokenizer: IndonesianTokenizer):
    spans = IndonesianTokenizer.protected_spans("Rp 80.000 atau 628.000 atau 62.000")
    assert spans == []


def test_regexes_match_training_data():
    """The tokenizer's protected patterns and the RegexEntityExtractor's are the same."""
    path = ROOT / "data" / "nlu" / "regex_lookup.yml"
    if not path.exists():
        pytest.skip(f"{path} not written yet")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    regexes = {item["regex"]: item["examples"] for item in data["nlu"] if "regex" in item}
    expected = {
        "msisdn": MSISDN_PATTERN,
        "serial_number": SERIAL_NUMBER_PATTERN,
        "email": EMAIL_PATTERN,
    }
    for name, pattern in expected.items():
        assert name in regexes, name
        patterns = [line[2:].strip() for line in regexes[name].strip().splitlines()]
        assert patterns == [pattern], name


# -------------------------------------------------------------- Rasa integration
def test_registered_as_rasa_tokenizer():
    registered = DefaultV1Recipe._registered_components  # noqa: SLF001
    info = registered[IndonesianTokenizer.__name__]
    assert DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER in info.types
    assert not info.is_trainable


def test_process_sets_tokens_with_lemmas(tokenizer: IndonesianTokenizer):
    message = Message(data={TEXT: "cust topup 100k via dana saldo kepotong pulsa gk nambah"})
    tokenizer.process([message])
    tokens = message.get(TOKENS_NAMES[TEXT])
    assert [t.lemma for t in tokens] == [
        "pelanggan",
        "isi ulang",
        "100 ribu",
        "via",
        "dana",
        "saldo",
        "terpotong",
        "pulsa",
        "tidak",
        "bertambah",
    ]


def test_config_uses_the_component_and_no_stop_words():
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    assert config["language"] == "id"
    names = [c["name"] for c in config["pipeline"]]
    assert names[0] == "nlu_components.indonesian_tokenizer.IndonesianTokenizer"
    for component in config["pipeline"]:
        assert not component.get("stop_words"), component["name"]


def test_extra_slang_from_config_and_fingerprint(tmp_path: Path):
    slang_file = tmp_path / "slang.yaml"
    slang_file.write_text("slang:\n  bkl: bakal\n", encoding="utf-8")
    config = {**IndonesianTokenizer.get_default_config(), "slang_file": str(slang_file)}
    tokenizer = IndonesianTokenizer({**config, "extra_slang": {"bnyk": "banyak"}})
    assert lemmas(tokenizer, "bkl bnyk") == ["bakal", "banyak"]
    before = IndonesianTokenizer.fingerprint_addon(config)
    slang_file.write_text("slang:\n  bkl: akan\n", encoding="utf-8")
    assert IndonesianTokenizer.fingerprint_addon(config) != before


def test_empty_slang_value_is_rejected(tmp_path: Path):
    slang_file = tmp_path / "slang.yaml"
    slang_file.write_text("slang:\n  gk: ''\n", encoding="utf-8")
    with pytest.raises(ValueError):
        SlangNormalizer.from_file(slang_file)


def test_every_token_fingerprints_all_its_fields(tokenizer: IndonesianTokenizer):
    text = "plg udh isi 50rb di alfa, 081234567890"
    tokens = tokenizer.tokenize(Message(data={TEXT: text}), TEXT)
    again = tokenizer.tokenize(Message(data={TEXT: text}), TEXT)
    assert tokens and all(isinstance(t, NormalisedToken) for t in tokens)
    # same content, same fingerprint (it is Rasa's cache key between training runs)
    assert [t.fingerprint() for t in tokens] == [t.fingerprint() for t in again]
    assert len({t.fingerprint() for t in tokens}) == len(tokens)

    base = NormalisedToken("udh", 4, lemma="sudah")
    changed = [
        NormalisedToken("udah", 4, lemma="sudah"),
        NormalisedToken("udh", 5, lemma="sudah"),
        NormalisedToken("udh", 4, end=8, lemma="sudah"),
        NormalisedToken("udh", 4, lemma="udh"),
        NormalisedToken("udh", 4, data={"pattern": {"msisdn": False}}, lemma="sudah"),
    ]
    fingerprints = {base.fingerprint()} | {t.fingerprint() for t in changed}
    assert len(fingerprints) == len(changed) + 1
    # the regex featurizer adds to a token's data after tokenising: the fingerprint follows
    before = base.fingerprint()
    base.set("pattern", {"msisdn": True})
    assert base.fingerprint() != before
    # dictionary order is not content
    one = NormalisedToken("a", 0, data={"x": 1, "y": 2})
    other = NormalisedToken("a", 0, data={"y": 2, "x": 1})
    assert one.fingerprint() == other.fingerprint()
