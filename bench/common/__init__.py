"""What every benchmark needs, written once: starting the server, PostgreSQL databases, readings of
the machine and its processes, percentiles, the facts and the JSON a run records.

Each benchmark measures something else, but all of them start uvicorn on a fresh database, wait
out other work on a shared two-core machine and record the same facts; one copy keeps their
numbers comparable and a fix in one place.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository: the server runs here, results go below it
