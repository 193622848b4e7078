#!/usr/bin/env python3
"""`make nlu-review`: the agent messages of the last N days worth a look, as correctable YAML.

Usage:
    python scripts/nlu_review.py [--days 7] [--db-url URL] [--min-confidence 0.7]
                                 [--out results/nlu-review.yml]

The database is --db-url, else $NLU_REVIEW_DB_URL, else PostgreSQL from the production
variables (TRACKER_DB_HOST, _PORT, _NAME, _USER, _PASSWORD) when TRACKER_DB_HOST is set, else
the development SQLite store var/tracker.db. See nlu_components/review.py for what is listed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlu_components import review  # noqa: E402


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--db-url", default=None)
    parser.add_argument("--min-confidence", type=float, default=0.7)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "nlu-review.yml")
    args = parser.parse_args(argv)
    url = args.db_url or review.default_url()
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).exists():
        print(f"nlu-review: no tracker store at {url[len('sqlite:///') :]}", file=sys.stderr)
        return 2
    result = review.review(url, args.days, args.min_confidence)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        "# make nlu-review: correct `intent`, then move `example` into data/nlu/\n"
        + yaml.safe_dump(result, allow_unicode=True, sort_keys=False, width=100),
        encoding="utf-8",
    )
    counts = ", ".join(f"{k} {v}" for k, v in result["counts"].items())
    print(f"nlu-review: {counts} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
