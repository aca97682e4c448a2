#!/usr/bin/python3
"""Seed sweep of `facto fmm search`: time (and flips) to a target rank over several seeds.

Runs `facto fmm search FORMAT --target R -j THREADS --seed S [extra options]` for each seed,
one after the other (or --jobs at a time), under `nice -n 19` unless --no-nice, and prints a
markdown table (seed, rank reached, flips, search time, flip rate, runs from the start scheme)
with the median and range of the search time and flips over the seeds, so the figures of
docs/fmm.md ("Results") can be reproduced. A seed that ends without the target (time limit)
counts in the median as its time limit (a lower bound), and the table says so.

Examples (docs/fmm.md):
  /usr/bin/python3 bench/run_fmm_search.py --facto build/facto 4,4,4 --target 49 -j 1 --seeds 1-10
  /usr/bin/python3 bench/run_fmm_search.py 3,4,5 --target 47 -j 1 --seeds 1 -T 600 -- --path-limit 1000000
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

SUMMARY = re.compile(r"^<[\d,]+>: rank (\d+) \(from (\d+)\) after ([\d,]+) flips in (.+?) \(([\d.]+) Mflips/s\)")
RUNS = re.compile(r"^runs by lowest rank \(rank:runs\):(.*); (\d+) runs")


def parse_seconds(text):
    """Inverse of the CLI's human_seconds: '850 ms', '12.3 s', '4 min 05 s', '1 h 02 min', '12 us'."""
    m = re.fullmatch(r"([\d.]+) (us|ms|s)", text)
    if m:
        return float(m.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[m.group(2)]
    m = re.fullmatch(r"(\d+) min (\d+) s", text)
    if m:
        return 60 * int(m.group(1)) + int(m.group(2))
    m = re.fullmatch(r"(\d+) h (\d+) min", text)
    if m:
        return 3600 * int(m.group(1)) + 60 * int(m.group(2))
    raise ValueError(f"cannot read the search time '{text}'")


def fmt_s(x):
    return f"{x * 1e3:.3g} ms" if x < 1 else f"{x:.3g} s"


def fmt_flips(n):
    return f"{n / 1e6:.1f} M" if n >= 1e6 else f"{n:,.0f}"


def parse_seeds(text):
    seeds = []
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-")
            seeds.extend(range(int(a), int(b) + 1))
        else:
            seeds.append(int(part))
    return seeds


def run_one(args, seed):
    cmd = [args.facto, "fmm", "search", args.format, "-j", str(args.threads), "--seed", str(seed),
           "-o", os.devnull]
    if args.target:
        cmd += ["--target", str(args.target)]
    if args.time_limit:
        cmd += ["-T", str(args.time_limit)]
    cmd += args.extra
    if not args.no_nice:
        cmd = ["nice", "-n", "19"] + cmd
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit(f"seed {seed}: {' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()[-500:]}")
    row = {"seed": seed, "wall": wall, "command": " ".join(cmd)}
    for line in (p.stdout + "\n" + p.stderr).splitlines():
        m = SUMMARY.match(line)
        if m:
            row.update(rank=int(m.group(1)), start=int(m.group(2)), flips=int(m.group(3).replace(",", "")),
                       seconds=parse_seconds(m.group(4)), rate=float(m.group(5)),
                       reached="target reached" in line)
        m = RUNS.match(line)
        if m:
            row["runs"] = int(m.group(2))
            row["runs_by_rank"] = m.group(1).strip()
    if "rank" not in row:
        sys.exit(f"seed {seed}: no summary line in the output of {' '.join(cmd)}:\n{p.stdout[-500:]}")
    print(f"seed {seed}: rank {row['rank']} in {row['seconds']:.2f} s, {row['flips']:,} flips"
          f"{'' if row['reached'] or not args.target else ' (target not reached)'}", file=sys.stderr, flush=True)
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Options after -- are passed on to facto fmm search.")
    ap.add_argument("format", help="N,M,P")
    ap.add_argument("--facto", default=os.path.join(ROOT, "build", "facto"), help="the facto program")
    ap.add_argument("--target", type=int, default=0, help="target rank (0: none, then give -T)")
    ap.add_argument("-j", "--threads", type=int, default=1, help="threads per search")
    ap.add_argument("--seeds", default="1-10", help="seeds: '1-10', '1,11,21'")
    ap.add_argument("-T", "--time-limit", type=float, default=0, help="seconds per seed (0: none)")
    ap.add_argument("--jobs", type=int, default=1, help="searches run at the same time")
    ap.add_argument("--no-nice", action="store_true", help="do not run under nice -n 19")
    ap.add_argument("--json", help="also write the rows here")
    # Everything after "--" goes to facto fmm search as it is.
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    args = ap.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    args.extra = extra
    if not args.target and not args.time_limit:
        ap.error("give --target and/or -T, else a search never ends")
    seeds = parse_seeds(args.seeds)
    with ThreadPoolExecutor(max_workers=args.jobs) as ex:
        rows = list(ex.map(lambda s: run_one(args, s), seeds))

    extra = " ".join(args.extra)
    print(f"`facto fmm search {args.format}{f' --target {args.target}' if args.target else ''} -j{args.threads}"
          f"{f' -T {args.time_limit:g}' if args.time_limit else ''} --seed S{' ' + extra if extra else ''}`"
          f" ({args.jobs} at a time{'' if args.no_nice else ', nice -n 19'}; load {os.getloadavg()[0]:.1f} at the end)\n")
    print("| seed | rank | flips | time | Mflips/s | runs | runs by lowest rank |")
    print("|------|------|-------|------|----------|------|---------------------|")
    for r in rows:
        mark = "" if r["reached"] or not args.target else " (limit)"
        print(f"| {r['seed']} | {r['rank']} | {r['flips']:,} | {fmt_s(r['seconds'])}{mark} | {r['rate']:.2f} | "
              f"{r.get('runs', '-')} | {r.get('runs_by_rank', '-')} |")
    times = [r["seconds"] for r in rows]
    flips = [r["flips"] for r in rows]
    reached = sum(r["reached"] for r in rows)
    print(f"\nmedian {fmt_s(statistics.median(times))} (range {fmt_s(min(times))} to {fmt_s(max(times))}), "
          f"median {fmt_flips(statistics.median(flips))} flips (range {fmt_flips(min(flips))} to {fmt_flips(max(flips))}); "
          f"lowest rank {min(r['rank'] for r in rows)}"
          + (f"; target reached by {reached} of {len(rows)} seeds" if args.target else ""))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
