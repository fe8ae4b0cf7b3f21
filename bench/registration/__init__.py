"""Registration throughput: the HTTP API against the same transaction in raw SQL.

One command, one fresh PostgreSQL database (dropped at the end):

    .venv/bin/python -m bench.registration --duration 20 --clients 16

1. creates ``congvan_bench_<timestamp>``, runs the migrations, creates a clerk;
2. starts uvicorn (``app.main:app``, ``--workers 2`` by default) on that database and drives
   ``POST /api/v1/incoming-documents`` with N concurrent keep-alive connections for a fixed time,
   every request a distinct valid document (received_at left to the server), from wrk (a C load
   generator, when installed) or Python threads (``--http-client``);
3. verifies the API's arrival numbers are exactly 1..N (no gap, no duplicate);
4. runs the same transaction in raw SQL with N concurrent connections (pgbench with a
   generated script by default, or psycopg threads): lock+increment the counter row, insert
   the document, insert its event, commit; verifies those numbers too;
5. prints a summary and writes ``bench/results/registration-<timestamp>.json``.

Only the project's own dependencies and the stdlib are used (httpx, psycopg, uvicorn,
SQLAlchemy); pgbench is the PostgreSQL client binary, wrk the Debian package of the HTTP
benchmarking tool (``apt-get install -y wrk``). See bench/README.md.

The modules, one concern each: ``workload`` (the clerk and the document every request
registers), ``load`` (client threads and what a side's summary holds), ``api`` (the HTTP side
from Python threads), ``wrk`` (the HTTP side from wrk), ``raw`` (the SQL side: pgbench or
psycopg threads), ``observe`` (CPU by process group and the counter lock while a side runs),
``verify`` (gapless numbers), ``report`` (the printed summary), ``cli`` (the run, start to end);
``parts`` is a second command: each step of one registration timed alone.
"""
