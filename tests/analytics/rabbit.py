"""RabbitMQ on 127.0.0.1:5672 (guest/guest) for the tests: each run declares its own queue
and exchange and deletes them afterwards (never anyone else's)."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from typing import Dict

RABBIT_HOST = os.environ.get("TEST_RABBITMQ_HOST", "127.0.0.1")
RABBIT_PORT = int(os.environ.get("TEST_RABBITMQ_PORT", "5672"))


def rabbit_available() -> bool:
    try:
        with socket.create_connection((RABBIT_HOST, RABBIT_PORT), timeout=2):
            return True
    except OSError:
        return False


def new_names(prefix: str) -> Dict[str, str]:
    run = uuid.uuid4().hex[:10]
    return {"queue": f"{prefix}_{run}", "exchange": f"{prefix}_{run}_x"}


def broker_env(queue: str, exchange: str = "") -> Dict[str, str]:
    """The RABBITMQ_* variables endpoints.production.yml reads (this run's names)."""
    return {
        "RABBITMQ_EXCHANGE": exchange or f"{queue}_x",
        "RABBITMQ_HOST": RABBIT_HOST,
        "RABBITMQ_PORT": str(RABBIT_PORT),
        "RABBITMQ_USER": "guest",
        "RABBITMQ_PASSWORD": "guest",
        "RABBITMQ_QUEUE": queue,
    }


def delete(queue: str, exchange: str = "") -> None:
    """Deletes this run's queue and exchange (default ``<queue>_x``); missing ones are
    fine."""
    exchange = exchange or f"{queue}_x"
    import aio_pika

    async def run() -> None:
        url = f"amqp://guest:guest@{RABBIT_HOST}:{RABBIT_PORT}/"
        connection = await aio_pika.connect(url)
        try:
            for name, kind in ((queue, "queue"), (exchange, "exchange")):
                if not name:
                    continue
                channel = await connection.channel()
                try:
                    if kind == "queue":
                        await channel.queue_delete(name)
                    else:
                        await channel.exchange_delete(name)
                except Exception:  # noqa: BLE001 - already gone
                    pass
        finally:
            await connection.close()

    asyncio.run(run())
