"""Fits long bot answers into a channel's message limits without breaking the ticket.

Telegram and WhatsApp accept at most 4,096 characters per text message (Telegram counts
UTF-16 code units, so :func:`utf16_len` is used as the measure for both), and a button title
should stay within 20 characters. :func:`split_text` splits on line boundaries only:

* a block that must stay readable as one piece (the ticket template, ``ticket_text`` of the
  ``sop_result`` payload) is kept whole in one message when it fits in one;
* a block longer than the limit is split between its lines (between ticket fields), never
  inside a field;
* only a single line longer than the limit is cut, at the last space before the limit.
"""

from __future__ import annotations

from typing import Callable, List, Optional, Sequence

TELEGRAM_TEXT_LIMIT = 4096
WHATSAPP_TEXT_LIMIT = 4096
WHATSAPP_INTERACTIVE_BODY_LIMIT = 1024
BUTTON_TITLE_LIMIT = 20

Measure = Callable[[str], int]


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (how Telegram counts; an emoji outside the BMP is 2)."""
    return len(text.encode("utf-16-le")) // 2


def trim_title(title: str, limit: int = BUTTON_TITLE_LIMIT) -> str:
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    return title[: limit - 1].rstrip() + "…"


def _find_block(lines: List[str], block: List[str]) -> Optional[int]:
    if not block:
        return None
    for start in range(len(lines) - len(block) + 1):
        if lines[start : start + len(block)] == block:
            return start
    return None


def _longest_prefix(text: str, limit: int, measure: Measure) -> int:
    """Number of characters of the longest prefix of ``text`` within ``limit`` (at least 1)."""
    lo, hi = 1, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(text[:mid]) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _cut_line(line: str, limit: int, measure: Measure) -> List[str]:
    """Cuts one over-long line at spaces (hard cut only when a word alone is too long)."""
    pieces: List[str] = []
    rest = line
    while measure(rest) > limit:
        end = _longest_prefix(rest, limit, measure)
        cut = rest.rfind(" ", 0, end + 1)
        if cut <= 0:
            cut = end
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def split_text(
    text: str,
    limit: int,
    keep_whole: Sequence[str] = (),
    measure: Measure = utf16_len,
) -> List[str]:
    """Splits ``text`` into messages of at most ``limit`` (by ``measure``), on line boundaries.

    ``keep_whole``: blocks of consecutive lines (e.g. the ticket template) kept in one message
    when they fit in one.
    """
    text = text.strip("\n")
    if measure(text) <= limit:
        return [text] if text.strip() else []
    lines = text.split("\n")
    # units: groups of lines that must not be separated
    units: List[List[str]] = [[line] for line in lines]
    for block_text in keep_whole:
        block = block_text.strip("\n").split("\n")
        if len(block) < 2 or measure("\n".join(block)) > limit:
            continue  # one line, or too long for one message: lines are the units
        flat = ["\n".join(u) for u in units]
        start = _find_block(flat, block)
        if start is not None:
            units[start : start + len(block)] = [block]
    chunks: List[str] = []
    current: List[str] = []

    def flush() -> None:
        joined = "\n".join(current).strip("\n")
        if joined.strip():
            chunks.append(joined)
        current.clear()

    for unit in units:
        if len(unit) > 1:
            pieces = ["\n".join(unit)]
        else:
            pieces = _cut_line(unit[0], limit, measure) or [""]
        for piece in pieces:
            if current and measure("\n".join(current + [piece])) > limit:
                flush()
            current.append(piece)
    flush()
    return chunks
