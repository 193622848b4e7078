"""Splitting long answers to a channel's limits without cutting the ticket."""

from __future__ import annotations

from typing import List

from channels.splitter import (
    TELEGRAM_TEXT_LIMIT,
    split_text,
    trim_title,
    utf16_len,
)
from sop_engine.engine import SopResult, Ticket
from sop_engine.render import result_payload, result_text

TICKET = "KIP: Pulsa belum masuk\nMSISDN: 081234567890\nNominal: Rp50.000\nKanal: GoPay"


def lines_of(chunks: List[str]) -> List[str]:
    return [line for chunk in chunks for line in chunk.split("\n")]


def test_short_text_is_one_message() -> None:
    assert split_text("halo\nkak", 100) == ["halo\nkak"]
    assert split_text("", 100) == []


def test_splits_on_line_boundaries_within_the_limit() -> None:
    text = "\n".join(f"Langkah {n}: cek data pelanggan" for n in range(200))
    chunks = split_text(text, 500)
    assert len(chunks) > 1
    assert all(utf16_len(c) <= 500 for c in chunks)
    assert "\n".join(chunks) == text  # nothing lost, nothing cut


def test_the_ticket_stays_whole_when_it_fits() -> None:
    for filler in range(0, 60):
        text = "\n".join(["x" * 9] * filler + ["Template tiket (salin):", TICKET, "Sumber: SOP"])
        chunks = split_text(text, 120, keep_whole=[TICKET])
        assert all(utf16_len(c) <= 120 for c in chunks)
        assert sum(TICKET in c for c in chunks) == 1, (filler, chunks)


def test_a_ticket_longer_than_the_limit_is_split_between_field_lines() -> None:
    ticket = "\n".join(f"Field {n}: nilai {n}" for n in range(40))
    text = "Hasil SOP\n" + ticket + "\nSumber: SOP"
    chunks = split_text(text, 100, keep_whole=[ticket])
    assert len(chunks) > 3
    assert all(utf16_len(c) <= 100 for c in chunks)
    assert lines_of(chunks) == text.split("\n")  # every field line intact


def test_only_a_line_longer_than_the_limit_is_cut_and_at_spaces() -> None:
    words = " ".join(f"kata{n}" for n in range(100))
    chunks = split_text(f"awal\n{words}\nakhir", 60)
    assert all(utf16_len(c) <= 60 for c in chunks)
    assert " ".join(" ".join(chunks).split()) == " ".join(f"awal {words} akhir".split())
    for chunk in chunks:
        for word in chunk.split():
            assert word in ("awal", "akhir") or word.startswith("kata")


def test_a_word_longer_than_the_limit_is_hard_cut() -> None:
    chunks = split_text("a" * 250, 100)
    assert [len(c) for c in chunks] == [100, 100, 50]


def test_limits_are_counted_in_utf16_units() -> None:
    text = "⚠️👍" * 3000  # the thumbs-up is 2 UTF-16 units
    chunks = split_text(text, TELEGRAM_TEXT_LIMIT)
    assert all(utf16_len(c) <= TELEGRAM_TEXT_LIMIT for c in chunks)
    assert "".join(chunks) == text
    assert utf16_len("👍") == 2


def test_button_titles_are_trimmed_to_20_characters() -> None:
    assert trim_title("Ya") == "Ya"
    assert trim_title("Bayar, nomor blm aktif") == "Bayar, nomor blm ak…"
    assert len(trim_title("x" * 50)) == 20
    assert trim_title("  a   b  ") == "a b"


def test_a_real_sop_answer_at_the_telegram_limit_keeps_its_ticket() -> None:
    labels = ["MSISDN", "Nominal isi ulang", "Kanal", "Waktu kendala", "Serial Number", "Email"]
    fields = {label: f"nilai {label.lower()}" for label in labels}
    ticket = Ticket(kip="Pulsa belum masuk > Isi ulang", fields=fields, missing=[], labels=labels)
    steps = [f"Langkah {n}: " + "periksa riwayat transaksi pelanggan " * 6 for n in range(25)]
    result = SopResult(
        case_id="pulsa_belum_masuk.fintech",
        title="Pulsa belum masuk (fintech)",
        steps=steps,
        ticket=ticket,
        source="SOP-001",
        warnings=["Halaman sumber kedaluwarsa"],
    )
    text = result_text(result)
    ticket_text = result_payload(result)["ticket_text"]
    assert utf16_len(text) > TELEGRAM_TEXT_LIMIT
    chunks = split_text(text, TELEGRAM_TEXT_LIMIT, keep_whole=[ticket_text])
    assert len(chunks) == 2
    assert all(utf16_len(c) <= TELEGRAM_TEXT_LIMIT for c in chunks)
    assert sum(ticket_text in c for c in chunks) == 1
    assert lines_of(chunks) == text.split("\n")
