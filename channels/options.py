"""Option numbers for channels that show options as a numbered list.

Some SOP options carry the page's own numbers ("1. Pending Verification", "4/17. Activation
Incident", ... "19. Gagal/error pembayaran": the status numbers of the page, with gaps).
Numbering them again would show "17. 19. Gagal/error pembayaran", and an agent typing "19"
for that status would pick the 19th option instead. So options are numbered once: by their
own numbers when every title has one, else 1, 2, 3, ...
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Sequence

OWN_NUMBER = re.compile(r"^(\d+(?:/\d+)*)[.)]\s+\S")


def clean_title(title: str) -> str:
    return " ".join(str(title).split())


def _own_keys(titles: Sequence[str]) -> Optional[List[List[str]]]:
    own: List[List[str]] = []
    for title in titles:
        match = OWN_NUMBER.match(clean_title(title))
        if not match:
            return None
        own.append(match.group(1).split("/"))
    flat = [key for keys in own for key in keys]
    return own if own and len(flat) == len(set(flat)) else None


def self_numbered(titles: Sequence[str]) -> bool:
    return _own_keys(titles) is not None


def option_keys(titles: Sequence[str]) -> List[List[str]]:
    """The numbers that pick each option: the title's own numbers ("4/17." -> ["4", "17"])
    when every title has its own and none repeats, else [1], [2], ..."""
    return _own_keys(titles) or [[str(n)] for n in range(1, len(titles) + 1)]


def listing_lines(titles: Sequence[str]) -> List[str]:
    """One line per option, numbered once."""
    cleaned = [clean_title(t) for t in titles]
    if self_numbered(cleaned):
        return cleaned
    return [f"{n}. {t}" for n, t in enumerate(cleaned, start=1)]


def pick(titles: Sequence[str], answer: str) -> Optional[int]:
    """The index of the option an answer picks: one of its numbers or its exact title."""
    text = clean_title(answer).rstrip(".").strip()
    keys: Dict[str, int] = {}
    for index, numbers in enumerate(option_keys(titles)):
        for number in numbers:
            keys[number] = index
    if text in keys:
        return keys[text]
    folded = text.casefold()
    for index, title in enumerate(titles):
        if clean_title(title).casefold() == folded:
            return index
    return None
