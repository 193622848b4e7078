"""Shared fixtures. The agents' zone is fixed to Asia/Jakarta unless a test says otherwise."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("AGENT_TZ", "Asia/Jakarta")
WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture
def now() -> datetime:
    """A fixed 'now': Sunday 22 Nov 2026 10:00 WIB."""
    return datetime(2026, 11, 22, 10, 0, tzinfo=WIB)
