"""Side-by-side benchmark of this assistant and a stock ``rasa init`` bot (``make bench``).

The entry point is ``scripts/bench.py``; results go to ``docs/benchmarks.md`` and
``docs/benchmarks-latency.png``, scratch files to the git-ignored ``bench-out/``.
"""
