"""What the server tests (tests/) and the benchmark (bench/) share, one copy each:

* :mod:`testkit.processes`: free ports, a server process with its log, readiness, teardown;
* :mod:`testkit.assistant`: this assistant's action server and Rasa server, started as
  scripts/run.sh starts them, alone or as a pair (:class:`testkit.assistant.Servers`);
* :mod:`testkit.stores`: PostgreSQL databases, Redis db numbers and RabbitMQ queues of one
  run on the machine's test services (``make test-services``), and the production store
  settings pointing at them;
* :mod:`testkit.cluster`: ``scripts/cluster.sh`` (nginx + TLS, two instances) on free ports;
* :mod:`testkit.conversations`: the sample conversations of the common cases and the SOP
  answer each ends in;
* :mod:`testkit.browser`: Debian's headless Chromium for the pages.

Nothing here is imported by the assistant's own packages.
"""
