"""CanonicalEntities on entity lists as the extractors hand them over (no trained model).

The same component on a trained model's parse output: tests/nlu/test_extraction.py.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest

pytest.importorskip("rasa")

from nlu_components.canonical_entities import CanonicalEntities  # noqa: E402

EXAMPLES = [
    ("gol_case", "paket dibawa kurir nyasar", "delivery_incident"),
    ("gol_case", "kartu baru no service terus", "nomor_tidak_bisa_digunakan"),
    ("callback_case", "plg diam saja tidak bicara", "call_hening"),
    ("channel", "pt pos", "pos_indonesia"),
]


@pytest.fixture(scope="module")
def component() -> CanonicalEntities:
    return CanonicalEntities({}, None, None, EXAMPLES)  # type: ignore[arg-type]


def ent(text: str, span: str, entity: str, confidence: float = 0.99, value: Optional[str] = None):
    start = text.index(span)
    return {
        "entity": entity,
        "start": start,
        "end": start + len(span),
        "value": value if value is not None else span,
        "confidence_entity": confidence,
        "extractor": "DIETClassifier",
    }


def run(component: CanonicalEntities, text: str, *entities: Dict[str, Any]) -> List[tuple]:
    out = component.canonicalise(text, list(entities))
    return [(e["entity"], e["value"], e.get("in_vocabulary", True)) for e in out]


def test_vocabulary_names_give_contract_values(component):
    text = "plg isi di alfa 50rb, status pending perso, call putus, internetnya mati, V-SAT"
    out = run(
        component,
        text,
        ent(text, "alfa", "channel"),
        ent(text, "pending perso", "gol_case"),
        ent(text, "call putus", "callback_case"),
        ent(text, "internetnya", "layanan"),
        ent(text, "V-SAT", "imes_product"),
    )
    assert out == [
        ("channel", "alfamart", True),
        ("gol_case", "pending_perso", True),
        ("callback_case", "call_terputus", True),
        ("layanan", "data", True),
        ("imes_product", "vsat", True),
    ]


def test_synonym_mapper_output_stays_canonical(component):
    text = "order gol pending perso"
    assert run(component, text, ent(text, "pending perso", "gol_case", value="pending_perso")) == [
        ("gol_case", "pending_perso", True)
    ]


def test_described_values_take_the_nearest_annotated_span(component):
    text = "order gol, paketnya dibawa kurir tp nyasar"
    out = run(component, text, ent(text, "paketnya dibawa kurir tp nyasar", "gol_case"))
    assert out == [("gol_case", "delivery_incident", True)]


def test_fragments_outside_the_vocabulary_are_dropped(component):
    text = "plg isi pulsa kemarin, PT maju jaya, <script>alert(1)</script> ' OR 1=1 --"
    out = run(
        component,
        text,
        ent(text, "isi", "gol_case"),
        ent(text, "PT", "channel"),  # too short to take a value by similarity
        ent(text, "<script>alert(1)</script>", "callback_case"),
        ent(text, "' OR 1=1 --", "gol_case"),
    )
    assert out == []


def test_open_lists_keep_an_unknown_name_marked(component):
    text = "plg bayar pake Flippay tp pulsa blm masuk"
    assert run(component, text, ent(text, "Flippay", "channel", 0.97)) == [
        ("channel", "Flippay", False)
    ]
    assert run(component, text, ent(text, "Flippay", "channel", 0.6)) == []


def test_two_channels_in_one_span(component):
    text = "beli via gopay di mytsel"
    out = run(component, text, ent(text, "gopay di mytsel", "channel"))
    assert out == [("channel", "gopay", True), ("channel", "mytelkomsel", True)]


def test_one_case_per_message_known_name_wins(component):
    text = "status pending perso, kartu baru no service terus"
    out = run(
        component,
        text,
        ent(text, "pending perso", "gol_case", 0.7),
        ent(text, "kartu baru no service terus", "gol_case", 0.99),
    )
    assert out == [("gol_case", "pending_perso", True)]


@pytest.mark.parametrize(
    ("text", "span", "entity", "expected"),
    [
        ("id pesanan OID/77120-AB blm muncul", "OID/77120-AB", "sid", ("order_id", "OID/77120-AB")),
        (
            "kode GRP-2411-000871",
            "GRP-2411-000871",
            "account_number",
            ("order_id", "GRP-2411-000871"),
        ),
        ("akun 441122 ya", "441122", "sid", ("account_number", "441122")),
        ("bayar pake ovo, trx 88120045", "88120045", "order_id", ("transaction_id", "88120045")),
    ],
)
def test_identifiers_relabelled_by_context(component, text, span, entity, expected):
    out = run(component, text, ent(text, span, entity))
    assert out == [(*expected, True)]


def test_labelled_identifier_no_extractor_found_is_added(component):
    text = "beli pake DANA, id transaksi DN2311250099871, sid: 55012345 / akun 441122"
    out = run(component, text, ent(text, "55012345", "sid"))
    assert sorted(out) == [
        ("account_number", "441122", True),
        ("sid", "55012345", True),
        ("transaction_id", "DN2311250099871", True),
    ]


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        # one typo, digits for letters, a one-word name split in two: where the form asks
        ("plg bayar paket pake kredivvo, blm masuk", "pulsa_belum_masuk", [("channel", "kredivo")]),
        ("isi pulsa pakai saldo 0V0", "pulsa_belum_masuk", [("channel", "ovo")]),
        ("via link aja", "inform", [("channel", "linkaja")]),
        ("udh bayar lwt alfamrat", "nomor_belum_aktif_setelah_bayar", [("channel", "alfamart")]),
        # no channel question in this case: no guess
        ("kredivvo", "callback", []),
        # short words are too close to ordinary words ("dana", "pos"): left to the extractors
        ("dna", "inform", []),
        ("pulsa blm masuk", "pulsa_belum_masuk", []),
    ],
)
def test_misspelled_channel_no_extractor_found(component, text, intent, expected):
    out = component.canonicalise(text, [], intent)
    assert [(e["entity"], e["value"]) for e in out] == expected


def test_misspelled_channel_never_overrides_an_extracted_one(component):
    text = "bayar pake alfa, td nyoba kredivvo"
    out = component.canonicalise(text, [ent(text, "alfa", "channel")], "pulsa_belum_masuk")
    assert [(e["entity"], e["value"]) for e in out] == [("channel", "alfamart")]
