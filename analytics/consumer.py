"""``python -m analytics.consumer``: stores the events Rasa's Pika event broker publishes to
RabbitMQ in PostgreSQL (any SQLAlchemy URL), for the ops page of every instance.

Settings (environment): ``ANALYTICS_DB_URL`` (required, e.g.
``postgresql://rasa:secret@127.0.0.1:5432/analytics``; the database must exist, the table
is created), ``RABBITMQ_HOST`` (127.0.0.1), ``RABBITMQ_PORT`` (5672), ``RABBITMQ_USER`` /
``RABBITMQ_PASSWORD`` (guest / guest), ``RABBITMQ_QUEUE`` (``rasa_events``; the queue
endpoints.production.yml declares), ``RABBITMQ_EXCHANGE`` (``rasa-exchange``, Rasa's
default fanout exchange).

A message is acknowledged only after its row is committed: a consumer that stops loses
nothing (the durable queue keeps the rest). A message that is not an event is logged and
dropped.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from typing import Mapping, Optional

import aio_pika

from analytics.store import create_table, insert_event

logger = logging.getLogger("analytics.consumer")


def amqp_url(env: Mapping[str, str]) -> str:
    from urllib.parse import quote

    # the same settings the Rasa servers' Pika broker reads (endpoints.production.yml); no
    # built-in credentials, so a consumer never logs in with defaults nobody configured
    missing = [k for k in ("RABBITMQ_HOST", "RABBITMQ_PORT", "RABBITMQ_USER") if not env.get(k)]
    missing += [] if "RABBITMQ_PASSWORD" in env else ["RABBITMQ_PASSWORD"]  # may be empty
    if missing:
        raise SystemExit(f"analytics consumer: set {', '.join(missing)} (see README)")
    user = quote(env["RABBITMQ_USER"], safe="")
    secret = quote(env["RABBITMQ_PASSWORD"], safe="")
    return f"amqp://{user}:{secret}@{env['RABBITMQ_HOST']}:{env['RABBITMQ_PORT']}/"


async def consume(env: Mapping[str, str], stop: Optional[asyncio.Event] = None) -> None:
    import sqlalchemy as sa

    db_url = env.get("ANALYTICS_DB_URL", "")
    if not db_url:
        raise SystemExit("analytics.consumer: ANALYTICS_DB_URL is not set")
    engine = sa.create_engine(db_url, pool_pre_ping=True)
    create_table(engine)
    queue_name = env.get("RABBITMQ_QUEUE", "rasa_events")
    exchange_name = env.get("RABBITMQ_EXCHANGE", "rasa-exchange")
    connection = await aio_pika.connect_robust(amqp_url(env))
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    try:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=100)
        # declared as Rasa's Pika broker declares them, so either may start first
        exchange = await channel.declare_exchange(exchange_name, aio_pika.ExchangeType.FANOUT)
        queue = await channel.declare_queue(queue_name, durable=True)
        await queue.bind(exchange, "")

        async def drain() -> None:
            # one message after the other: rows keep the order Rasa published them in
            async with queue.iterator() as messages:
                async for message in messages:
                    async with message.process(requeue=True):
                        stored = await loop.run_in_executor(
                            None, insert_event, engine, message.body
                        )
                        if not stored:
                            logger.warning("dropped a message that is not a Rasa event")

        print(f"analytics consumer: {queue_name} -> {engine.url.database}", flush=True)
        draining = asyncio.ensure_future(drain())
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({draining, stopping}, return_when=asyncio.FIRST_COMPLETED)
        for task in (draining, stopping):
            task.cancel()
        if draining.done() and not draining.cancelled() and draining.exception():
            raise draining.exception()  # type: ignore[misc]
    finally:
        await connection.close()
        engine.dispose()


def main() -> None:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"))
    stop = asyncio.Event()

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await consume(os.environ, stop)

    asyncio.run(run())


if __name__ == "__main__":
    main()
