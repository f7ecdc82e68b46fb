"""Benchmarks (``make bench``): AnXun at county scale against the machine's own ceilings, measured in
the same run on the same data. Not tests: nothing here asserts, and nothing here runs under pytest.

``bench.run`` is the entry point; ``bench.dataset`` builds the county in SQL in its own database
(``anxun_bench``); ``bench.sections`` measures AnXun over HTTP and ``bench.ceilings`` the bare
equivalents; ``bench.report`` prints the table and writes ``bench/results/*.json``."""
