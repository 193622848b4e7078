"""Payment method: how a purchase in the operator's app was paid, one of the slot's buttons.
Asked as a choice; a channel answer that names a payment too ("gopay di mytelkomsel") fills
it as well (kinds/channel.py)."""

from __future__ import annotations

from sop_engine.kinds.choice import Choice

KIND = Choice("payment_method", "metode pembayaran")
