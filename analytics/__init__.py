"""Case analytics for team leads, computed from the events Rasa's event broker stores.

* :mod:`analytics.store`     the stored events (the SQL broker's table, or the consumer's)
* :mod:`analytics.figures`   events -> cases and figures (pure, no Rasa)
* :mod:`analytics.consumer`  ``python -m analytics.consumer``: RabbitMQ (Pika broker) -> SQL
* :mod:`analytics.ops`       ``GET /ops/``, ``/ops/data.json`` and ``/ops/cases.csv`` of the
                             Rasa server

See README "Feedback, analytics and Tanya TL" and docs/panduan-tl.md.
"""
