"""The training data stays in the form that trains fast (docs/nlu-report.md, annotation guide)."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "data" / "nlu"


@pytest.mark.parametrize("path", sorted(DATA.glob("*.yml")), ids=lambda p: p.name)
def test_annotations_use_the_short_form(path: Path) -> None:
    """`[alfa](channel:alfamart)`, not `[alfa]{"entity": ...}`: Rasa schema-checks every JSON
    annotation at each of the five loads of a training."""
    lines = [
        f"{number}: {line.strip()}"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if ']{"entity"' in line.replace(" ", "")
    ]
    assert not lines, "JSON-form annotations:\n" + "\n".join(lines[:10])
