"""``python -m bench.registration``: the benchmark's command (bench/registration/cli.py)."""

from bench.registration.cli import main

raise SystemExit(main())
