"""Server-side runtime pieces of the assistant (no SOP logic here).

* :mod:`assistant_runtime.masking`      masks MSISDNs, e-mail addresses, SNs and secrets in
                                        every log record (``logging.yml``).
* :mod:`assistant_runtime.tracker_store` SQL tracker store that fails loudly instead of
                                        falling back to memory; clear error when the
                                        database is down at start.
* :mod:`assistant_runtime.event_broker` Rasa's SQL event broker writing a turn's events in one
                                        transaction (the embedded analytics store).
* :mod:`assistant_runtime.lock_store`   Redis lock store with atomic tickets (two Rasa
                                        instances), short renewed leases, bounded waits,
                                        Redis calls off the event loop, and a clear error
                                        when Redis is down.
* :mod:`assistant_runtime.turns`        one truth per turn: no save after a lost lease,
                                        resends answered with the saved reply.
* :mod:`assistant_runtime.health`       ``GET /health`` of the Rasa server.
* :mod:`assistant_runtime.routes`       the Rasa server's own routes (``/health``, ``/ops/``)
                                        and log masking at start, as a connector listed in
                                        credentials*.yml (Rasa's supported seam).
* :mod:`assistant_runtime.patches`      every patch of Rasa internals, one module per concern,
                                        one registry (pinned Rasa version, drift-tested):
                                        action server down or slow -> a short Indonesian
                                        "system busy" answer instead of an empty 200, a
                                        failing store -> the same answer, speed patches.
* ``python -m assistant_runtime``       ``rasa`` after the checks before start, with the
                                        patches installed and the HTTP API secrets read from
                                        the environment.

See docs/reliability.md.
"""
