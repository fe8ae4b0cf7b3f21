"""The printed summary of a run: the table of both sides, then what the JSON says about errors,
wrk's own counters, the ratio and its target, the verification, CPU per registration and the lock.

The JSON in bench/results/ is the record; this is what a person reads at the end of a run.
"""

from __future__ import annotations


def fmt(v: object, width: int = 10) -> str:
    if v is None:
        return "-".rjust(width)
    if isinstance(v, float):
        return f"{v:,.1f}".rjust(width)
    return str(v).rjust(width)


def print_summary(result: dict[str, object]) -> None:
    config = result["config"]
    print()
    print(f"registration benchmark  {result['timestamp']}  ({config['clients']} clients, "
          f"{config['duration_s']} s per side, uvicorn workers={config['workers']}, app {config['app']}, "
          f"HTTP client {config['http_client']})")
    print(f"{'side':<28}{'ok':>10}{'errors':>10}{'req/s':>10}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}"
          f"{'max ms':>10}")
    sides = [("API (HTTP, uvicorn)", result["api"])]
    sides += [(f"raw SQL ({r['driver']})", r) for r in (result["raw_all"] or {}).values()]
    for name, side in sides:
        print(f"{name:<28}{fmt(side['ok'])}{fmt(side['errors'])}{fmt(side['rate_per_s'])}{fmt(side['p50_ms'])}"
              f"{fmt(side['p90_ms'])}{fmt(side['p99_ms'])}{fmt(side['max_ms'])}")
    for name, side in sides:
        quarters = side.get("rate_by_quarter_per_s")
        print(f"rate by quarter of the window, {name}: {'-' if quarters is None else quarters} req/s")
    api = result["api"]
    if api.get("warmup_errors") or api.get("errors"):
        print(f"API errors: warm-up {api.get('warmup_errors')}, measured {api['errors']}; statuses {api['statuses']}; "
              f"first: {(api['first_errors'] or api.get('warmup_first_errors') or ['-'])[0]}")
    for label, run in (("warm-up", api.get("warmup_wrk")), ("measured", api.get("wrk"))):
        if run:
            sockets = ", ".join(f"{k} {v}" for k, v in run["socket_errors"].items() if v) or "none"
            print(f"wrk {label}: {run['posts_sent']} POSTs, {run['responses']} answered (wrk counted "
                  f"{run['requests_completed']}, {run['non_2xx_3xx']} non-2xx/3xx, socket errors: {sockets}); "
                  f"last answer {run['drain_s']} s after the deadline; wrk CPU {run['cpu_s']} s")
            for check in run["checks"]:
                print(f"  WARNING: wrk {label}: {check}")
    ratio = result["ratio_api_to_raw"]
    if ratio is not None:
        print(f"ratio API/raw ({result['raw']['driver']}) = {ratio:.3f}  (target >= {result['target_ratio']})  "
              f"{'MET' if result['target_met'] else 'NOT MET'}")
    for key, v in result["verification"].items():
        if v:
            print(f"verify {key:<4}: count={v['count']} min={v['min']} max={v['max']} distinct={v['distinct']} "
                  f"events={v['events']} counter={v['counter']} expected={v['expected']} "
                  f"-> {'OK' if v['gapless_unique'] else 'FAILED'}")
            if v["expected"] is not None and v["expected"] != v["count"]:
                print(f"  MISMATCH: the database holds {v['count']} documents of register {v['register']} but the "
                      f"load generator counted {v['expected']} successes (warm-up + measured)")
    for name, side in sides:
        c = side["cpu"]
        parts = ", ".join(f"{group.replace('_', ' ')} {c[f'{group}_ms_per_tx']}"
                          + (f" (of which wrk {c['load_generator_wrk_ms_per_tx']})"
                             if group == "load_generator" and c.get("load_generator_wrk_ms_per_tx") else "")
                          for group in ("server", "postgres", "pgbench", "load_generator", "other_jobs")
                          if c.get(f"{group}_ms_per_tx"))
        print(f"cpu  {name}: machine {c['machine_utilisation_pct']}% busy; CPU ms per registration: {parts}")
        if c["other_jobs_pct_of_machine"] > 10:
            print(f"  WARNING: other jobs used {c['other_jobs_pct_of_machine']}% of the machine during this side; "
                  "its numbers are not trustworthy")
    for name, side in sides:
        lock = side["lock"]
        if not lock:  # SQLite: not sampled
            continue
        doing = ", ".join(f"{v}% {k}" for k, v in lock["holder_doing_pct"].items())
        print(f"lock {name}: contended {lock['lock_contended_pct']}% of samples, "
              f"{lock['mean_backends_waiting_for_lock']} backends waiting on average; holder: {doing}")
