#!/usr/bin/env python3
"""Run the benchmark over the workloads gen.py wrote, and write RESULTS.md.

Called by compare.sh (which installs the tools, builds smokegate and starts nginx). Standard
library only. Every timed run is wrapped in `/usr/bin/time -f %M` for its peak RSS; wall time is
measured here around the whole process (start-up included: that is what a pipeline pays).
Tools run alternately: in each repetition the order rotates. A run whose exit status is not 0
(some check failed) aborts the benchmark: a tool that does not check is not being measured.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True, **kw)


def first_line(cmd):
    try:
        r = sh(cmd)
        return (r.stdout or r.stderr).strip().splitlines()[0]
    except Exception as e:  # noqa: BLE001
        return f"unavailable ({e})"


class Runner:
    def __init__(self, env, log):
        self.env = env
        self.log = log

    def timed(self, argv, label):
        """Run argv once; return (wall seconds, peak RSS KiB). Abort on a non-zero exit."""
        with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
            full = ["/usr/bin/time", "-f", "%M", "-o", rss.name] + argv
            t0 = time.perf_counter()
            r = subprocess.run(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env=self.env, text=True)
            wall = time.perf_counter() - t0
            kib = int(rss.read().strip().splitlines()[-1])
        if r.returncode != 0:
            sys.stderr.write(f"\n{label} failed (exit {r.returncode}):\n  {shlex.join(argv)}\n"
                             f"{r.stderr[-3000:]}\n")
            sys.exit(1)
        self.log.write(json.dumps({"label": label, "wall_s": wall, "rss_kib": kib}) + "\n")
        self.log.flush()
        return wall, kib


def alternate(runner, tools, reps_of):
    """tools: {name: argv}. Repetition r runs the tools in an order rotated by r; a tool with
    fewer repetitions (reps_of[name]) drops out after its last one."""
    names = list(tools)
    samples = {n: [] for n in names}
    for r in range(max(reps_of.values())):
        order = names[r % len(names):] + names[:r % len(names)]
        for n in order:
            if len(samples[n]) < reps_of[n]:
                wall, kib = runner.timed(tools[n], f"{n} rep {r + 1}")
                samples[n].append((wall, kib))
                print(f"  {n:<28} rep {r + 1}: {wall:8.3f} s  {kib / 1024:7.1f} MiB", flush=True)
    return samples


def med(xs):
    return statistics.median(xs)


def wrk_rate(url, conns, secs, reps):
    rates = []
    for r in range(reps):
        out = sh(["wrk", "-t2", f"-c{conns}", f"-d{secs}s", url]).stdout
        m = re.search(r"Requests/sec:\s+([\d.]+)", out)
        if not m:
            sys.exit(f"wrk gave no rate:\n{out}")
        errs = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        if errs:
            sys.exit(f"wrk saw errors:\n{out}")
        rates.append(float(m.group(1)))
        print(f"  wrk rep {r + 1}: {rates[-1]:.0f} req/s", flush=True)
        time.sleep(1)
    return rates, out


def hyperfine(cmds, runs, warmup, env, export):
    argv = ["hyperfine", "-N", "--warmup", str(warmup), "--runs", str(runs), "--export-json", export,
            "--style", "basic"]
    for name, cmd in cmds:
        argv += ["-n", name, cmd]
    r = subprocess.run(argv, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"hyperfine failed:\n{r.stdout}\n{r.stderr}")
    data = json.load(open(export))
    return {res["command"]: res for res in data["results"]}


def hyperfine_rounds(cmds, runs, rounds, env, work, tag):
    """hyperfine -N over cmds in `rounds` rounds of `runs` runs each, the order rotated every
    round (hyperfine itself runs one command's runs back to back). Every run must exit 0.
    Returns {name: [seconds, ...]} over all rounds."""
    times = {n: [] for n, _ in cmds}
    for r in range(rounds):
        order = cmds[r % len(cmds):] + cmds[:r % len(cmds)]
        res = hyperfine(order, runs, 2, env, os.path.join(work, f"hf-{tag}-{r}.json"))
        for n, c in cmds:
            times[n] += res[n]["times"]
        print("  round %d: %s" % (r + 1, ", ".join(
            f"{n} {statistics.median(res[n]['times']) * 1000:.1f} ms" for n, _ in cmds)), flush=True)
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True, help="directory gen.py wrote")
    ap.add_argument("--base", required=True, help="nginx base URL (plain HTTP)")
    ap.add_argument("--tls-base", required=True, help="nginx base URL (HTTPS, the test CA)")
    ap.add_argument("--cacert", required=True, help="the test CA (PEM) every tool trusts")
    ap.add_argument("--one-runs", type=int, default=20, help="hyperfine runs per round (one-check gate)")
    ap.add_argument("--smokegate", required=True, help="smokegate binary")
    ap.add_argument("--suites", required=True, help="bundled suites directory (W3 validate)")
    ap.add_argument("--reps", type=int, default=5, help="repetitions for fast tools")
    ap.add_argument("--slow-reps", type=int, default=3, help="repetitions for Newman and Step CI")
    ap.add_argument("--jobs", type=int, default=64, help="W2 concurrency")
    ap.add_argument("--w1-jobs", type=int, default=16, help="W1 concurrency")
    ap.add_argument("--wrk-secs", type=int, default=5)
    ap.add_argument("--out", required=True, help="RESULTS.md to write")
    ap.add_argument("--raw", required=True, help="raw samples (JSON lines)")
    ap.add_argument("--note", default="", help="extra text for the method section")
    ap.add_argument("--append", help="markdown file appended to RESULTS.md (profile notes)")
    ap.add_argument("--baseline", help="an earlier smokegate binary, run alongside (before/after)")
    ap.add_argument("--baseline-label", default="baseline", help="what the baseline is (a git rev)")
    a = ap.parse_args()

    W = os.path.abspath(a.work)
    counts = json.load(open(os.path.join(W, "counts.json")))
    sg = os.path.abspath(a.smokegate)
    env = dict(os.environ, STEPCI_DISABLE_ANALYTICS="1", NO_COLOR="1")
    log = open(a.raw, "w")
    runner = Runner(env, log)
    B = a.base

    def hurl_files(d):
        return sorted(os.path.join(W, "hurl", d, f) for f in os.listdir(os.path.join(W, "hurl", d)))

    BASE_NAME = f"smokegate {a.baseline_label}"
    SG2 = "smokegate, 2 threads (forced)"
    bl = os.path.abspath(a.baseline) if a.baseline else None

    TB = a.tls_base
    CA = os.path.abspath(a.cacert)

    def tls_args(base, flag="--cacert"):
        return [flag, CA] if base.startswith("https:") else []

    def sg_run(binary, wl, jobs, base=None):
        base = base or B
        return [binary, "run", f"{W}/smokegate/{wl}/suite.yaml", "--var", f"base={base}",
                "--jobs", str(jobs), "--color", "never"] + tls_args(base)

    def hurl_run(files, jobs, base):
        return (["hurl", "--test", "--parallel", "--jobs", str(jobs), "--variable", f"base={base}"]
                + tls_args(base) + files)

    def with_baseline(tools, wl, jobs, base=None):
        if bl:
            tools[BASE_NAME] = sg_run(bl, wl, jobs, base)
        return tools

    def tools_for(wl, jobs):
        return {
            "smokegate": sg_run(sg, wl, jobs),
            "hurl": ["hurl", "--test", "--parallel", "--jobs", str(jobs), "--variable", f"base={B}"]
                    + hurl_files(wl),
            "newman": ["newman", "run", f"{W}/newman/{wl}.postman_collection.json",
                       "--env-var", f"base={B}", "--reporters", "cli"],
            "stepci": ["stepci", "run", f"{W}/stepci/{wl}.yml", "-e", f"base={B}",
                       "--concurrency", str(jobs)],
        }

    versions = {
        "smokegate": first_line([sg, "--version"]) + " (HEAD " + first_line(
            f"git -C {shlex.quote(a.suites)}/.. rev-parse --short HEAD 2>/dev/null || echo unknown") + ")",
        **({BASE_NAME: first_line([bl, "--version"]) + f" ({a.baseline_label})"} if bl else {}),
        "hurl": first_line(["hurl", "--version"]),
        "newman": "newman " + first_line(["newman", "--version"]),
        "stepci": "stepci " + first_line(["stepci", "--version"]),
        "nginx": first_line("nginx -v 2>&1"),
        "wrk": first_line("wrk -v 2>&1"),
        "hyperfine": first_line(["hyperfine", "--version"]),
        "node": "node " + first_line(["node", "--version"]),
        "rustc": first_line(["rustc", "--version"]),
    }
    mem_kib = int(re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read()).group(1))
    cpu = re.search(r"model name\s*:\s*(.+)", open("/proc/cpuinfo").read())
    machine = {
        "cores": os.cpu_count(),
        "cpu": cpu.group(1).strip() if cpu else platform.processor(),
        "mem_gib": mem_kib / 1024 / 1024,
        "kernel": platform.release(),
        "os": first_line("grep PRETTY_NAME /etc/os-release | cut -d= -f2 | tr -d '\"'"),
        "load_at_start": open("/proc/loadavg").read().split()[:3],
    }
    started = datetime.datetime.now(datetime.timezone.utc)
    t_start = time.time()

    # --- one-check gate: process start to exit (hyperfine -N, rounds in rotated order) ----------
    one_cmds = []
    for scheme, base in (("http", B), ("https", TB)):
        one_cmds.append((f"smokegate {scheme}", shlex.join(sg_run(sg, "one", 1, base))))
        if bl:
            one_cmds.append((f"{BASE_NAME} {scheme}", shlex.join(sg_run(bl, "one", 1, base))))
        one_cmds.append((f"hurl {scheme}", shlex.join(
            ["hurl", "--test", "--variable", f"base={base}"] + tls_args(base) + hurl_files("one"))))
    print(f"one-check gate: {len(one_cmds)} commands, 3 rounds of {a.one_runs} runs", flush=True)
    for n, c in one_cmds:  # every command must pass its check first
        runner.timed(shlex.split(c), f"one warmup {n}")
    one_t = hyperfine_rounds(one_cmds, a.one_runs, 3, env, W, "one")
    for n, ts in one_t.items():
        for t in ts:
            log.write(json.dumps({"label": f"one {n}", "wall_s": t}) + "\n")

    # --- W1 -----------------------------------------------------------------------------------
    w1 = with_baseline(tools_for("w1", a.w1_jobs), "w1", a.w1_jobs)
    w1 = {k: w1[k] for k in ["smokegate", BASE_NAME, "hurl", "newman", "stepci"] if k in w1}
    print("W1 warm-up (every tool must pass every check)", flush=True)
    for n, argv in w1.items():
        runner.timed(argv, f"w1 warmup {n}")
    print(f"W1 gate: {counts['w1']} checks", flush=True)
    w1_s = alternate(runner, w1, {"smokegate": a.reps, "hurl": a.reps, BASE_NAME: a.reps,
                                  "newman": a.slow_reps, "stepci": a.slow_reps})
    # W1 over HTTPS: smokegate (and the baseline) and Hurl.
    w1t = with_baseline({"smokegate": sg_run(sg, "w1", a.w1_jobs, TB),
                         "hurl": hurl_run(hurl_files("w1"), a.w1_jobs, TB)}, "w1", a.w1_jobs, TB)
    for n, argv in w1t.items():
        runner.timed(argv, f"w1 https warmup {n}")
    print(f"W1 gate over HTTPS: {counts['w1']} checks", flush=True)
    w1t_s = alternate(runner, w1t, {k: a.reps for k in w1t})

    # --- W2 -----------------------------------------------------------------------------------
    w2 = tools_for("w2", a.jobs)
    # Hurl runs the files of a run in parallel and the entries of one file in sequence (one
    # connection per file). Two layouts of the same 2,000 checks: one file per check, and one
    # file per worker (jobs files of ~2000/jobs entries each), which reuses connections.
    w2["hurl (1 file/worker)"] = (["hurl", "--test", "--parallel", "--jobs", str(a.jobs),
                                   "--variable", f"base={B}"] + hurl_files("w2-per-worker"))
    w2[SG2] = ["env", "SMOKEGATE_WORKER_THREADS=2"] + sg_run(sg, "w2", a.jobs)
    w2 = with_baseline(w2, "w2", a.jobs)
    w2 = {k: w2[k] for k in ["smokegate", SG2, BASE_NAME, "hurl", "hurl (1 file/worker)", "newman", "stepci"]
          if k in w2}
    print("W2 warm-up", flush=True)
    for n in ("smokegate", SG2, BASE_NAME, "hurl", "hurl (1 file/worker)"):
        if n in w2:
            runner.timed(w2[n], f"w2 warmup {n}")
    print(f"W2 throughput: {counts['w2']} checks, concurrency {a.jobs}", flush=True)
    w2_s = alternate(runner, w2, {"smokegate": a.reps, SG2: a.reps, "hurl": a.reps,
                                  "hurl (1 file/worker)": a.reps, BASE_NAME: a.reps,
                                  "newman": a.slow_reps, "stepci": a.slow_reps})
    # W2 over HTTPS: 64 full handshakes (every run is a new process) and the same checks.
    w2t = with_baseline({"smokegate": sg_run(sg, "w2", a.jobs, TB),
                         "hurl": hurl_run(hurl_files("w2"), a.jobs, TB),
                         "hurl (1 file/worker)": hurl_run(hurl_files("w2-per-worker"), a.jobs, TB)},
                        "w2", a.jobs, TB)
    # The runtime split: smokegate runs on one thread; two (SMOKEGATE_WORKER_THREADS=2) run
    # alongside, over HTTP and over HTTPS (64 handshakes at once: the CPU-bound case).
    w2t[SG2] = ["env", "SMOKEGATE_WORKER_THREADS=2"] + sg_run(sg, "w2", a.jobs, TB)
    for n, argv in w2t.items():
        runner.timed(argv, f"w2 https warmup {n}")
    print(f"W2 throughput over HTTPS: {counts['w2']} checks, concurrency {a.jobs}", flush=True)
    w2t_s = alternate(runner, w2t, {k: a.reps for k in w2t})

    # --- chained: register -> capture the token -> bearer call, over HTTPS -------------------------
    ch = with_baseline({"smokegate": sg_run(sg, "chain", a.jobs, TB),
                        "hurl": hurl_run(hurl_files("chain"), a.jobs, TB)}, "chain", a.jobs, TB)
    for n, argv in ch.items():
        runner.timed(argv, f"chain warmup {n}")
    print(f"chained over HTTPS: {counts['chain']} chains of 2 requests, concurrency {a.jobs}", flush=True)
    ch_s = alternate(runner, ch, {k: a.reps for k in ch})

    # --- raw ceiling ------------------------------------------------------------------------------
    print(f"wrk -t2 -c{a.jobs} -d{a.wrk_secs}s {B}/health", flush=True)
    wrk_rates, wrk_out = wrk_rate(f"{B}/health", a.jobs, a.wrk_secs, 3)
    print(f"wrk -t2 -c{a.jobs} -d{a.wrk_secs}s {TB}/health", flush=True)
    wrk_tls_rates, _ = wrk_rate(f"{TB}/health", a.jobs, a.wrk_secs, 3)

    # --- smokegate at scale ---------------------------------------------------------------------
    print(f"smokegate at {counts['big']} checks", flush=True)
    big_argv = [sg, "run", f"{W}/smokegate/big", "--var", f"base={B}", "--jobs", str(a.jobs),
                "--color", "never"]
    val_argv = [sg, "validate", f"{W}/smokegate/big"]
    # The same run writing every file report (what a CI job keeps): their memory and time.
    rep_argv = big_argv + ["--report-json", f"{W}/big-report.json", "--report-junit",
                           f"{W}/big-report.xml", "--report-html", f"{W}/big-report.html"]
    big_tools = {"smokegate-big": big_argv, "validate-big": val_argv, "reports-big": rep_argv}
    if bl:
        big_tools["baseline-big"] = [bl] + big_argv[1:]
        big_tools["baseline-validate-big"] = [bl] + val_argv[1:]
        big_tools["baseline-reports-big"] = [bl] + rep_argv[1:]
    big_all = alternate(runner, big_tools, {k: 3 for k in big_tools})
    big_s, val_big = big_all["smokegate-big"], big_all["validate-big"]
    print(f"smokegate at {counts['huge']} checks", flush=True)
    huge_argv = [sg, "run", f"{W}/smokegate/huge", "--var", f"base={B}", "--jobs", str(a.jobs),
                 "--color", "never"]
    huge_tools = {"smokegate-huge": huge_argv}
    if bl:
        huge_tools["baseline-huge"] = [bl] + huge_argv[1:]
    huge_all = alternate(runner, huge_tools, {k: 2 for k in huge_tools})
    huge_s = huge_all["smokegate-huge"]

    # --- W3 -------------------------------------------------------------------------------------
    print("W3 cold start (hyperfine)", flush=True)
    suites = os.path.abspath(a.suites)
    SUITES = "suites/"  # how the bundled suites directory is shown (no local paths in outputs)
    fast = [
        ("smokegate --version", f"{sg} --version"),
        ("hurl --version", "hurl --version"),
        ("smokegate validate suites/", f"{sg} validate {suites}"),
    ]
    if bl:
        fast += [(f"{BASE_NAME} --version", f"{bl} --version"),
                 (f"{BASE_NAME} validate suites/", f"{bl} validate {suites}")]
    hf_fast = hyperfine(fast, 50, 5, env, os.path.join(W, "hf-fast.json"))
    hf_slow = hyperfine([
        ("newman --version", "newman --version"),
        ("stepci --version", "stepci --version"),
    ], 10, 2, env, os.path.join(W, "hf-slow.json"))
    hf = {**hf_fast, **hf_slow}
    elapsed = time.time() - t_start

    # --- report ---------------------------------------------------------------------------------
    def stats(samples, idx=0):
        xs = [s[idx] for s in samples]
        return med(xs), min(xs), max(xs)

    n1, n2, nb, nh, nc = counts["w1"], counts["w2"], counts["big"], counts["huge"], counts["chain"]
    wrk_med = med(wrk_rates)
    wrk_tls_med = med(wrk_tls_rates)

    def rows_of(samples, n_checks):
        rows = {}
        for n, s in samples.items():
            wall, lo, hi = stats(s)
            rows[n] = {"wall": wall, "lo": lo, "hi": hi, "rate": n_checks / wall,
                       "rss": med([x[1] for x in s]) / 1024, "runs": len(s)}
        return rows

    rows2, rows2t = rows_of(w2_s, n2), rows_of(w2t_s, n2)
    rows1, rows1t = rows_of(w1_s, n1), rows_of(w1t_s, n1)
    rowsc = rows_of(ch_s, nc)
    one = {n: {"med": med(ts), "lo": min(ts), "hi": max(ts), "runs": len(ts)} for n, ts in one_t.items()}
    sg2, sg2t = rows2["smokegate"]["rate"], rows2t["smokegate"]["rate"]
    hurl_best = max(rows2["hurl"]["rate"], rows2["hurl (1 file/worker)"]["rate"])
    hurl_best_t = max(rows2t["hurl"]["rate"], rows2t["hurl (1 file/worker)"]["rate"])
    big_wall, big_lo, big_hi = stats(big_s)
    big_rss = med([x[1] for x in big_s]) / 1024
    huge_wall, huge_lo, huge_hi = stats(huge_s)
    huge_rss = med([x[1] for x in huge_s]) / 1024
    vb_wall = med([x[0] for x in val_big])
    vb_rss = med([x[1] for x in val_big]) / 1024
    rep_big = big_all["reports-big"]
    rb_wall, rb_lo, rb_hi = stats(rep_big)
    rb_rss = med([x[1] for x in rep_big]) / 1024
    ver_ms = hf["smokegate --version"]["median"] * 1000
    val_ms = hf["smokegate validate suites/"]["median"] * 1000

    def ok(b):
        return "met" if b else "**missed**"

    one_ratio = one["smokegate https"]["med"] / one["hurl https"]["med"]
    w1_ratio = rows1["smokegate"]["wall"] / rows1["hurl"]["wall"]
    w1t_ratio = rows1t["smokegate"]["wall"] / rows1t["hurl"]["wall"]
    targets = [
        ("one-check gate over HTTPS ≤ ½ Hurl's time", f"{one_ratio:.2f}× Hurl's", ok(one_ratio <= 0.5)),
        ("W1 over HTTPS: wall ≤ ½ Hurl's", f"{w1t_ratio:.2f}× Hurl's", ok(w1t_ratio <= 0.5)),
        ("W1 over HTTP: wall ≤ ½ Hurl's", f"{w1_ratio:.2f}× Hurl's", ok(w1_ratio <= 0.5)),
        ("W2 over HTTP ≥ 5× Hurl checks/s (Hurl's faster layout)", f"{sg2 / hurl_best:.2f}×", ok(sg2 / hurl_best >= 5)),
        ("W2 over HTTPS ≥ 5× Hurl checks/s (Hurl's faster layout)", f"{sg2t / hurl_best_t:.2f}×", ok(sg2t / hurl_best_t >= 5)),
        ("W2 over HTTP ≥ 30% of wrk req/s", f"{100 * sg2 / wrk_med:.1f}%", ok(sg2 / wrk_med >= 0.30)),
        ("W2 ≥ 20× Newman checks/s", f"{sg2 / rows2['newman']['rate']:.0f}×", ok(sg2 / rows2['newman']['rate'] >= 20)),
        (f"Peak RSS at {nh:,} checks < 60 MB", f"{huge_rss:.1f} MiB", ok(huge_rss * 1.048576 < 60)),
        (f"Peak RSS at {nb:,} checks < 50 MB", f"{big_rss:.1f} MiB", ok(big_rss * 1.048576 < 50)),
        ("`smokegate --version` < 5 ms", f"{ver_ms:.2f} ms", ok(ver_ms < 5)),
        ("`smokegate validate suites/` < 30 ms", f"{val_ms:.2f} ms", ok(val_ms < 30)),
    ]

    L = []
    w = L.append
    w("# smokegate benchmark results\n")
    w(f"Generated by `bench/compare.sh` on {started:%Y-%m-%d %H:%M} UTC in {elapsed / 60:.1f} min. "
      "Do not edit by hand; re-run the script.\n")
    w("## Machine\n")
    w(f"- {machine['cores']} cores ({machine['cpu']}), {machine['mem_gib']:.1f} GiB RAM, "
      f"{machine['os']}, kernel {machine['kernel']}")
    w(f"- load average when the run started: {' '.join(machine['load_at_start'])} (see Method)\n")
    w("## Targets (issue 16; ratios measured in this run)\n")
    w("| target | measured | |\n|---|---|---|")
    for t, m, st in targets:
        w(f"| {t} | {m} | {st} |")
    w("")
    w("## One-check gate: process start to exit (hyperfine -N)\n")
    w("One `GET /health` with status, 3 JSONPath and (smokegate) the schema; HTTPS is a full "
      "handshake against the test CA (nginx keeps no session cache).\n")
    w("| command | median | min–max | runs |")
    w("|---|---:|---:|---:|")
    for n, r in one.items():
        w(f"| {n} | {r['med'] * 1000:.2f} ms | {r['lo'] * 1000:.2f}–{r['hi'] * 1000:.2f} ms | {r['runs']} |")
    w("")

    def w2_table(title, rows, samples, wrk_r, wrk_m, ref):
        w(title)
        w("| tool | median wall | min–max | checks/s | smokegate is | peak RSS (median) | runs |")
        w("|---|---:|---:|---:|---:|---:|---:|")
        for n, r in rows.items():
            ratio = "—" if n == "smokegate" else f"{ref / r['rate']:.2f}×"
            w(f"| {n} | {r['wall']:.3f} s | {r['lo']:.3f}–{r['hi']:.3f} s | {r['rate']:,.0f} | {ratio} | "
              f"{r['rss']:.1f} MiB | {r['runs']} |")
        w(f"| wrk (no checks, {a.wrk_secs} s, -t2 -c{a.jobs}) | — | {min(wrk_r):,.0f}–{max(wrk_r):,.0f} req/s | "
          f"{wrk_m:,.0f} req/s | {100 * ref / wrk_m:.1f}% of it | — | {len(wrk_r)} |")
        w("")

    w2_table(f"## W2 throughput over HTTP: {n2:,} × `GET /health` (status + 3 JSONPath + JSON Schema), concurrency {a.jobs}\n",
             rows2, w2_s, wrk_rates, wrk_med, sg2)
    w("Hurl has no JSON Schema assertion: its checks are status + the same JSONPath asserts "
      "(`one_of` as a regex `matches`). Newman and Step CI validate the same schema (Ajv). "
      "Newman has no concurrency: it runs the collection sequentially.\n")
    w2_table(f"## W2 throughput over HTTPS (same checks; {a.jobs} full handshakes per run)\n",
             rows2t, w2t_s, wrk_tls_rates, wrk_tls_med, sg2t)
    w("wrk over HTTPS opens its connections once and does not verify the certificate.\n")

    def w1_table(title, rows):
        w(title)
        w("| tool | median wall | min–max | smokegate is | peak RSS | runs |")
        w("|---|---:|---:|---:|---:|---:|")
        for n, r in rows.items():
            ratio = "—" if n == "smokegate" else f"{r['wall'] / rows['smokegate']['wall']:.1f}× faster"
            w(f"| {n} | {r['wall'] * 1000:.1f} ms | {r['lo'] * 1000:.1f}–{r['hi'] * 1000:.1f} ms | {ratio} | {r['rss']:.1f} MiB | {r['runs']} |")
        w("")

    w1_table(f"## W1 gate over HTTP: {n1} checks shaped like the bundled suites, concurrency {a.w1_jobs} where the tool has it\n", rows1)
    w("10 × (enriched `/health`: status, content-type regex, 5 JSONPath, schema; anonymous "
      "`POST /v1/events` with a JSON body: 401 + 2 JSONPath; `GET /api/status` with a bearer "
      "header: status, 2 headers, 2 JSONPath).\n")
    w1_table(f"## W1 gate over HTTPS (same checks)\n", rows1t)
    w1_table(f"## Chained over HTTPS: {nc} × (register → capture the token → bearer call), concurrency {a.jobs}\n", rowsc)
    w("`POST /auth/register` (201, a token in the body) → the token captured by JSONPath "
      "(smokegate `secret: true`, Hurl `redact`) → `GET /me` with `Authorization: Bearer …`, "
      "which answers 401 to any other token → status + 1 JSONPath. One case (smokegate) or "
      "one file (Hurl) per chain.\n")
    w(f"## smokegate at scale (suite files of 2,000 cases, one process, plain HTTP)\n")
    w("| command | median wall | min–max | checks/s | peak RSS (median) |")
    w("|---|---:|---:|---:|---:|")
    w(f"| `run`, {nb:,} checks | {big_wall:.3f} s | {big_lo:.3f}–{big_hi:.3f} s | {nb / big_wall:,.0f} | {big_rss:.1f} MiB |")
    w(f"| `validate`, {nb:,} checks (load + plan + compile only, nothing sent) | {vb_wall:.3f} s | | | {vb_rss:.1f} MiB |")
    w(f"| `run`, {nb:,} checks, with `--report-json`, `--report-junit` and `--report-html` | {rb_wall:.3f} s | {rb_lo:.3f}–{rb_hi:.3f} s | {nb / rb_wall:,.0f} | {rb_rss:.1f} MiB |")
    w(f"| `run`, {nh:,} checks | {huge_wall:.3f} s | {huge_lo:.3f}–{huge_hi:.3f} s | {nh / huge_wall:,.0f} | {huge_rss:.1f} MiB |")
    w("")
    w("## W3 cold start (hyperfine -N, warm page cache)\n")
    w("| command | median | mean ± σ | runs |")
    w("|---|---:|---:|---:|")
    for name, r in hf.items():
        w(f"| `{name}` | {r['median'] * 1000:.2f} ms | {r['mean'] * 1000:.2f} ± {r['stddev'] * 1000:.2f} ms | {len(r['times'])} |")
    w("")
    w("Hurl, Newman and Step CI have no command that checks a suite without running it; only "
      "their `--version` start-up is shown.\n")
    if bl:
        bb = big_all["baseline-big"]
        bv = big_all["baseline-validate-big"]
        bh = huge_all["baseline-huge"]
        w(f"## Before and after: `{BASE_NAME}` and this build, side by side in this run\n")
        w("The same workloads, alternating with the tools above. A ratio above 1 means this build "
          "is faster (or smaller).\n")
        w(f"| measure | {BASE_NAME} | this build | ratio |")
        w("|---|---:|---:|---:|")
        def row(name, before, after, unit, fmt):
            w(f"| {name} | {fmt.format(before)} {unit} | {fmt.format(after)} {unit} | {before / after:.2f}× |")
        row("one-check gate, HTTP (median)", one[f"{BASE_NAME} http"]["med"] * 1000, one["smokegate http"]["med"] * 1000, "ms", "{:.2f}")
        row("one-check gate, HTTPS (median)", one[f"{BASE_NAME} https"]["med"] * 1000, one["smokegate https"]["med"] * 1000, "ms", "{:.2f}")
        row("W1 HTTP wall (median)", rows1[BASE_NAME]["wall"] * 1000, rows1["smokegate"]["wall"] * 1000, "ms", "{:.1f}")
        row("W1 HTTPS wall (median)", rows1t[BASE_NAME]["wall"] * 1000, rows1t["smokegate"]["wall"] * 1000, "ms", "{:.1f}")
        row("W2 HTTP wall (median)", rows2[BASE_NAME]["wall"] * 1000, rows2["smokegate"]["wall"] * 1000, "ms", "{:.1f}")
        row("W2 HTTPS wall (median)", rows2t[BASE_NAME]["wall"] * 1000, rows2t["smokegate"]["wall"] * 1000, "ms", "{:.1f}")
        row("W2 HTTP peak RSS", rows2[BASE_NAME]["rss"], rows2["smokegate"]["rss"], "MiB", "{:.1f}")
        row("chained HTTPS wall (median)", rowsc[BASE_NAME]["wall"] * 1000, rowsc["smokegate"]["wall"] * 1000, "ms", "{:.1f}")
        row(f"{nb:,} checks: `run` wall", med([x[0] for x in bb]), big_wall, "s", "{:.3f}")
        row(f"{nb:,} checks: `run` peak RSS", med([x[1] for x in bb]) / 1024, big_rss, "MiB", "{:.1f}")
        row(f"{nb:,} checks: `validate` wall", med([x[0] for x in bv]), vb_wall, "s", "{:.3f}")
        row(f"{nb:,} checks: `validate` peak RSS", med([x[1] for x in bv]) / 1024, vb_rss, "MiB", "{:.1f}")
        br = big_all["baseline-reports-big"]
        row(f"{nb:,} checks with JSON, JUnit and HTML reports: wall", med([x[0] for x in br]), rb_wall, "s", "{:.3f}")
        row(f"{nb:,} checks with JSON, JUnit and HTML reports: peak RSS", med([x[1] for x in br]) / 1024, rb_rss, "MiB", "{:.1f}")
        row(f"{nh:,} checks: `run` wall", med([x[0] for x in bh]), huge_wall, "s", "{:.3f}")
        row(f"{nh:,} checks: `run` peak RSS", med([x[1] for x in bh]) / 1024, huge_rss, "MiB", "{:.1f}")
        row("`--version`", hf[f"{BASE_NAME} --version"]["median"] * 1000, ver_ms, "ms", "{:.2f}")
        row("`validate suites/`", hf[f"{BASE_NAME} validate suites/"]["median"] * 1000, val_ms, "ms", "{:.2f}")
        w("")
    w("## Versions\n")
    for k, v in versions.items():
        w(f"- {k}: {v}")
    w("")
    w("## Exact commands\n")
    w("`$W` is the temporary workload directory gen.py wrote, `$B` and `$TB` the nginx base URLs "
      f"(`{B}`, `{TB}`), `$CA` the test CA compare.sh minted (PEM).\n")
    w("```")
    def show(argv):
        s = shlex.join(argv)
        if bl:
            s = s.replace(bl, "smokegate-baseline")
        s = (s.replace(sg, "smokegate").replace(CA, "$CA").replace(W, "$W").replace(TB, "$TB")
             .replace(B, "$B").replace(suites, SUITES))
        s = re.sub(r"(\$W/hurl/[\w-]+/)\d+\.hurl( \$W/hurl/[\w-]+/\d+\.hurl)*", r"\1*.hurl", s)
        return s
    for n, c in one_cmds:
        w(f"# one-check gate, {n} (hyperfine -N, 3 rounds of {a.one_runs} runs, order rotated)\n"
          f"{show(shlex.split(c))}")
    for wl, tools in (("W1", w1), ("W1 https", w1t), ("W2", w2), ("W2 https", w2t), ("chained https", ch)):
        for n, argv in tools.items():
            w(f"# {wl} {n}\n{show(argv)}")
    w(f"# raw ceiling\nwrk -t2 -c{a.jobs} -d{a.wrk_secs}s $B/health\nwrk -t2 -c{a.jobs} -d{a.wrk_secs}s $TB/health")
    w(f"# {nb:,} checks\n{show(big_argv)}\n{show(val_argv)}\n{show(rep_argv)}")
    if bl:
        big_cmds = [show(big_tools["baseline-big"]), show(big_tools["baseline-validate-big"]),
                    show(big_tools["baseline-reports-big"])]
        w(f"# {nb:,} checks, {BASE_NAME}\n" + "\n".join(big_cmds))
    w(f"# {nh:,} checks\n{show(huge_argv)}")
    w(f"# W3\nhyperfine -N --warmup 5 --runs 50 'smokegate --version' 'hurl --version' 'smokegate validate {SUITES}'\nhyperfine -N --warmup 2 --runs 10 'newman --version' 'stepci --version'")
    w("```\n")
    w("## Method\n")
    w(f"- One session, one nginx ({versions['nginx']}, 2 workers, `access_log off`, keep-alive) on "
      "127.0.0.1 serving static JSON with `return 200 '…'`; every tool and wrk hit the same "
      "locations. Traffic stays on loopback.")
    w("- HTTPS: compare.sh mints a throw-away CA and an ECDSA P-256 server certificate for "
      "127.0.0.1 with openssl into the temporary work directory; nginx serves the same "
      "locations over HTTP/1.1 with TLS 1.2/1.3 on a second loopback port, with no session "
      "cache or tickets (every run is a new process anyway). Every tool trusts the CA through "
      "its own option (`smokegate --cacert`, `hurl --cacert`) and verifies the certificate; "
      "only wrk does not verify.")
    w("- The one-check gate is timed with `hyperfine -N` (no shell) in 3 rounds whose command "
      "order rotates; the medians are over all rounds. Everything else is timed by run.py as "
      "below.")
    w("- `bench/gen.py` renders one description of the checks into each tool's format "
      "(smokegate YAML, `.hurl` files, a Postman v2.1 collection, a Step CI workflow).")
    w(f"- Each tool runs once un-timed first (it must pass every check; a failing run aborts the "
      f"benchmark). Then the tools alternate: in every repetition the order rotates. "
      f"{a.reps} repetitions for smokegate and Hurl, {a.slow_reps} for Newman and Step CI "
      "(they take tens of seconds per W2 run). Medians are reported.")
    w("- Wall time is the whole process, start-up included, measured around `/usr/bin/time -f %M` "
      "(peak RSS of the process). checks/s = checks ÷ median wall time. Output goes to /dev/null.")
    w("- The client tools, nginx and wrk all share the same 2 cores; wrk's rate is therefore the "
      "ceiling *of this machine with the server on it*, and the smokegate/wrk ratio is the "
      "harness's overhead against the same server.")
    w("- `smokegate` in the commands is a private copy of the binary under test (built by "
      "compare.sh, or `SMOKEGATE_BIN`), so a rebuild under target/ cannot change it mid-run.")
    if bl:
        w(f"- `smokegate-baseline` is `{BASE_NAME}` (`BASELINE_REV` built in its own worktree, or "
          "`BASELINE_BIN`), copied the same way and run in the same alternation as every other "
          "tool: the before/after table compares medians of the same run.")
    w(f"- Load average at the start: {' '.join(machine['load_at_start'])}. Anything else sharing "
      "the cores makes absolute numbers noisy; the ratios were measured side by side, "
      "alternating, in one session, which is what they are for.")
    if a.note:
        w(f"- {a.note}")
    w("")
    if a.append and os.path.exists(a.append):
        L.append(open(a.append).read())
    with open(a.out, "w") as f:
        f.write("\n".join(L) + "\n")
    print("\n".join(f"{t}: {m} ({s})" for t, m, s in targets))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
