"""The input guard every connector runs before NLU."""

from __future__ import annotations

import json
import time

import pytest

from channels.guard import (
    EMPTY_REPLY,
    MAX_MESSAGE_CHARS,
    BadRequest,
    check_text,
    clean_text,
    parse_message_body,
)


def test_control_characters_are_removed_newlines_and_tabs_kept() -> None:
    assert clean_text("isi\x00 pulsa\x07 50rb\u202e\ufeff\x1b[31m") == "isi pulsa 50rb[31m"
    assert clean_text("baris 1\r\nbaris 2\rbaris 3\tkolom") == "baris 1\nbaris 2\nbaris 3\tkolom"
    assert clean_text("\x85\x9fok") == "ok"  # C1 controls
    assert clean_text("emoji 👍🏽 tetap") == "emoji 👍🏽 tetap"


def test_zero_width_characters_do_not_split_numbers() -> None:
    assert clean_text("SN 0215123456\u200b789012345678901") == "SN 0215123456789012345678901"
    assert clean_text("0812\u200d3456\u2060 7890\u200e") == "08123456 7890"


@pytest.mark.parametrize("raw", [None, "", "   ", "\n\t ", "\x00\x00", "\u202e"])
def test_empty_or_whitespace_gets_a_prompt(raw: object) -> None:
    result = check_text(raw)  # type: ignore[arg-type]
    assert not result.ok
    assert result.reason == "empty"
    assert result.reply == EMPTY_REPLY
    assert "kosong" in EMPTY_REPLY


def test_limit_is_2000_characters_and_named_in_indonesian() -> None:
    assert MAX_MESSAGE_CHARS == 2000
    assert check_text("a" * 2000).text == "a" * 2000
    result = check_text("a" * 2001)
    assert not result.ok and result.reason == "too_long"
    assert "2.000 karakter" in (result.reply or "")
    assert "2.001" in (result.reply or "")


def test_control_characters_do_not_count_and_text_is_stripped() -> None:
    assert check_text("  " + "a" * 2000 + "\x00" * 50 + "  ").text == "a" * 2000


def test_a_huge_message_is_refused_fast() -> None:
    start = time.perf_counter()
    result = check_text("pulsa " * 200_000)
    assert result.reason == "too_long"
    assert time.perf_counter() - start < 0.1


def body(data: object) -> bytes:
    return json.dumps(data).encode()


def test_a_valid_body() -> None:
    assert parse_message_body(body({"sender": " a1 ", "message": "halo"})) == ("a1", "halo", None)
    assert parse_message_body(body({"sender": "a1", "metadata": {"x": 1}})) == (
        "a1",
        None,
        {"x": 1},
    )


@pytest.mark.parametrize(
    "raw",
    [
        b"{bad json",
        b"\xff\xfe\x00",
        body(["sender", "a"]),
        body("teks"),
        body({"message": "halo"}),
        body({"sender": "", "message": "halo"}),
        body({"sender": 123, "message": "halo"}),
        body({"sender": None, "message": "halo"}),
        body({"sender": "a", "message": 5}),
        body({"sender": "a", "message": ["x"]}),
        body({"sender": "a", "message": "x", "metadata": "m"}),
        body({"sender": "a\x00b", "message": "x"}),
        body({"sender": "a" * 129, "message": "x"}),
        b"",
    ],
)
def test_bad_bodies_are_refused(raw: bytes) -> None:
    with pytest.raises(BadRequest):
        parse_message_body(raw)


def test_an_oversized_body_is_refused() -> None:
    with pytest.raises(BadRequest, match="terlalu besar"):
        parse_message_body(body({"sender": "a", "message": "x" * 1_100_000}))
