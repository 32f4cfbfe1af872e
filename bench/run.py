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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True, help="directory gen.py wrote")
    ap.add_argument("--base", required=True, help="nginx base URL")
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
    bl = os.path.abspath(a.baseline) if a.baseline else None

    def sg_run(binary, wl, jobs):
        return [binary, "run", f"{W}/smokegate/{wl}/suite.yaml", "--var", f"base={B}",
                "--jobs", str(jobs), "--color", "never"]

    def with_baseline(tools, wl, jobs):
        if bl:
            tools[BASE_NAME] = sg_run(bl, wl, jobs)
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

    # --- W1 -----------------------------------------------------------------------------------
    w1 = with_baseline(tools_for("w1", a.w1_jobs), "w1", a.w1_jobs)
    w1 = {k: w1[k] for k in ["smokegate", BASE_NAME, "hurl", "newman", "stepci"] if k in w1}
    print("W1 warm-up (every tool must pass every check)", flush=True)
    for n, argv in w1.items():
        runner.timed(argv, f"w1 warmup {n}")
    print(f"W1 gate: {counts['w1']} checks", flush=True)
    w1_s = alternate(runner, w1, {"smokegate": a.reps, "hurl": a.reps, BASE_NAME: a.reps,
                                  "newman": a.slow_reps, "stepci": a.slow_reps})

    # --- W2 -----------------------------------------------------------------------------------
    w2 = tools_for("w2", a.jobs)
    # Hurl runs the files of a run in parallel and the entries of one file in sequence (one
    # connection per file). Two layouts of the same 2,000 checks: one file per check, and one
    # file per worker (jobs files of ~2000/jobs entries each), which reuses connections.
    w2["hurl (1 file/worker)"] = (["hurl", "--test", "--parallel", "--jobs", str(a.jobs),
                                   "--variable", f"base={B}"] + hurl_files("w2-per-worker"))
    w2 = with_baseline(w2, "w2", a.jobs)
    w2 = {k: w2[k] for k in ["smokegate", BASE_NAME, "hurl", "hurl (1 file/worker)", "newman", "stepci"]
          if k in w2}
    print("W2 warm-up", flush=True)
    for n in ("smokegate", BASE_NAME, "hurl", "hurl (1 file/worker)"):
        if n in w2:
            runner.timed(w2[n], f"w2 warmup {n}")
    print(f"W2 throughput: {counts['w2']} checks, concurrency {a.jobs}", flush=True)
    w2_s = alternate(runner, w2, {"smokegate": a.reps, "hurl": a.reps, "hurl (1 file/worker)": a.reps,
                                  BASE_NAME: a.reps, "newman": a.slow_reps, "stepci": a.slow_reps})

    # --- raw ceiling ------------------------------------------------------------------------------
    print(f"wrk -t2 -c{a.jobs} -d{a.wrk_secs}s {B}/health", flush=True)
    wrk_rates, wrk_out = wrk_rate(f"{B}/health", a.jobs, a.wrk_secs, 3)

    # --- smokegate at scale ---------------------------------------------------------------------
    print(f"smokegate at {counts['big']} checks", flush=True)
    big_argv = [sg, "run", f"{W}/smokegate/big", "--var", f"base={B}", "--jobs", str(a.jobs),
                "--color", "never"]
    val_argv = [sg, "validate", f"{W}/smokegate/big"]
    big_tools = {"smokegate-big": big_argv, "validate-big": val_argv}
    if bl:
        big_tools["baseline-big"] = [bl] + big_argv[1:]
        big_tools["baseline-validate-big"] = [bl] + val_argv[1:]
    big_all = alternate(runner, big_tools, {k: 3 for k in big_tools})
    big_s, val_big = big_all["smokegate-big"], big_all["validate-big"]

    # --- W3 -------------------------------------------------------------------------------------
    print("W3 cold start (hyperfine)", flush=True)
    suites = os.path.abspath(a.suites)
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

    n1, n2, nb = counts["w1"], counts["w2"], counts["big"]
    wrk_med = med(wrk_rates)
    rows2 = {}
    for n, s in w2_s.items():
        wall, lo, hi = stats(s)
        rows2[n] = {"wall": wall, "lo": lo, "hi": hi, "rate": n2 / wall, "rss": med([x[1] for x in s]) / 1024}
    rows1 = {}
    for n, s in w1_s.items():
        wall, lo, hi = stats(s)
        rows1[n] = {"wall": wall, "lo": lo, "hi": hi, "rss": med([x[1] for x in s]) / 1024}
    sg2 = rows2["smokegate"]["rate"]
    hurl_best = max(rows2["hurl"]["rate"], rows2["hurl (1 file/worker)"]["rate"])
    big_wall, big_lo, big_hi = stats(big_s)
    big_rss = med([x[1] for x in big_s]) / 1024
    vb_wall = med([x[0] for x in val_big])
    vb_rss = med([x[1] for x in val_big]) / 1024
    ver_ms = hf["smokegate --version"]["median"] * 1000
    val_ms = hf["smokegate validate suites/"]["median"] * 1000

    def ok(b):
        return "met" if b else "**missed**"

    targets = [
        ("W2 smokegate ≥ 5× Hurl checks/s (Hurl's faster layout)", f"{sg2 / hurl_best:.2f}×", ok(sg2 / hurl_best >= 5)),
        ("W2 smokegate ≥ 5× Hurl checks/s (one file per check)", f"{sg2 / rows2['hurl']['rate']:.2f}×", ok(sg2 / rows2['hurl']['rate'] >= 5)),
        ("W2 smokegate ≥ 20× Newman checks/s", f"{sg2 / rows2['newman']['rate']:.0f}×", ok(sg2 / rows2['newman']['rate'] >= 20)),
        ("W2 smokegate ≥ 30% of wrk req/s", f"{100 * sg2 / wrk_med:.1f}%", ok(sg2 / wrk_med >= 0.30)),
        ("W1 smokegate wall ≤ ½ Hurl's", f"{rows1['smokegate']['wall'] / rows1['hurl']['wall']:.2f}× Hurl's", ok(rows1['smokegate']['wall'] <= rows1['hurl']['wall'] / 2)),
        ("W3 `smokegate --version` < 5 ms", f"{ver_ms:.2f} ms", ok(ver_ms < 5)),
        ("W3 `smokegate validate suites/` < 30 ms", f"{val_ms:.2f} ms", ok(val_ms < 30)),
        (f"Peak RSS at {nb:,} checks < 50 MB", f"{big_rss:.0f} MiB", ok(big_rss * 1.048576 < 50)),
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
    w("## Targets\n")
    w("| target | measured | |\n|---|---|---|")
    for t, m, s in targets:
        w(f"| {t} | {m} | {s} |")
    w("")
    w(f"## W2 throughput: {n2:,} × `GET /health` (status + 3 JSONPath + JSON Schema), concurrency {a.jobs}\n")
    w("| tool | median wall | min–max | checks/s | smokegate is | peak RSS (median) | runs |")
    w("|---|---:|---:|---:|---:|---:|---:|")
    for n, r in rows2.items():
        ratio = "—" if n == "smokegate" else f"{sg2 / r['rate']:.2f}×"
        w(f"| {n} | {r['wall']:.3f} s | {r['lo']:.3f}–{r['hi']:.3f} s | {r['rate']:,.0f} | {ratio} | "
          f"{r['rss']:.1f} MiB | {len(w2_s[n])} |")
    w(f"| wrk (no checks, {a.wrk_secs} s, -t2 -c{a.jobs}) | — | {min(wrk_rates):,.0f}–{max(wrk_rates):,.0f} req/s | "
      f"{wrk_med:,.0f} req/s | {100 * sg2 / wrk_med:.1f}% of it | — | {len(wrk_rates)} |")
    w("")
    w("Hurl has no JSON Schema assertion: its checks are status + the same JSONPath asserts "
      "(`one_of` as a regex `matches`). Newman and Step CI validate the same schema (Ajv). "
      "Newman has no concurrency: it runs the collection sequentially.\n")
    w(f"## W1 gate: {n1} checks shaped like the bundled suites, concurrency {a.w1_jobs} where the tool has it\n")
    w("| tool | median wall | min–max | smokegate is | peak RSS | runs |")
    w("|---|---:|---:|---:|---:|---:|")
    for n, r in rows1.items():
        ratio = "—" if n == "smokegate" else f"{r['wall'] / rows1['smokegate']['wall']:.1f}× faster"
        w(f"| {n} | {r['wall'] * 1000:.1f} ms | {r['lo'] * 1000:.1f}–{r['hi'] * 1000:.1f} ms | {ratio} | {r['rss']:.1f} MiB | {len(w1_s[n])} |")
    w("")
    w("10 × (enriched `/health`: status, content-type regex, 5 JSONPath, schema; anonymous "
      "`POST /v1/events` with a JSON body: 401 + 2 JSONPath; `GET /api/status` with a bearer "
      "header: status, 2 headers, 2 JSONPath).\n")
    w(f"## smokegate at {nb:,} checks (10 suite files of 2,000 cases, one process)\n")
    w("| command | median wall | min–max | checks/s | peak RSS (median) |")
    w("|---|---:|---:|---:|---:|")
    w(f"| `run` | {big_wall:.3f} s | {big_lo:.3f}–{big_hi:.3f} s | {nb / big_wall:,.0f} | {big_rss:.1f} MiB |")
    w(f"| `validate` (load + plan + compile only, nothing sent) | {vb_wall:.3f} s | | | {vb_rss:.1f} MiB |")
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
        w(f"## Before and after: `{BASE_NAME}` and this build, side by side in this run\n")
        w("The same workloads, alternating with the tools above. A ratio above 1 means this build "
          "is faster (or smaller).\n")
        w(f"| measure | {BASE_NAME} | this build | ratio |")
        w("|---|---:|---:|---:|")
        def row(name, before, after, unit, fmt):
            w(f"| {name} | {fmt.format(before)} {unit} | {fmt.format(after)} {unit} | {before / after:.2f}× |")
        row("W1 wall (median)", rows1[BASE_NAME]["wall"] * 1000, rows1["smokegate"]["wall"] * 1000, "ms", "{:.1f}")
        row("W2 wall (median)", rows2[BASE_NAME]["wall"] * 1000, rows2["smokegate"]["wall"] * 1000, "ms", "{:.1f}")
        row("W2 peak RSS", rows2[BASE_NAME]["rss"], rows2["smokegate"]["rss"], "MiB", "{:.1f}")
        row(f"{nb:,} checks: `run` wall", med([x[0] for x in bb]), big_wall, "s", "{:.3f}")
        row(f"{nb:,} checks: `run` peak RSS", med([x[1] for x in bb]) / 1024, big_rss, "MiB", "{:.1f}")
        row(f"{nb:,} checks: `validate` wall", med([x[0] for x in bv]), vb_wall, "s", "{:.3f}")
        row(f"{nb:,} checks: `validate` peak RSS", med([x[1] for x in bv]) / 1024, vb_rss, "MiB", "{:.1f}")
        row("`--version`", hf[f"{BASE_NAME} --version"]["median"] * 1000, ver_ms, "ms", "{:.2f}")
        row("`validate suites/`", hf[f"{BASE_NAME} validate suites/"]["median"] * 1000, val_ms, "ms", "{:.2f}")
        w("")
    w("## Versions\n")
    for k, v in versions.items():
        w(f"- {k}: {v}")
    w("")
    w("## Exact commands\n")
    w("`$W` is the temporary workload directory gen.py wrote, `$B` the nginx base URL "
      f"(`{B}`).\n")
    w("```")
    def show(argv):
        s = shlex.join(argv)
        if bl:
            s = s.replace(bl, "smokegate-baseline")
        s = s.replace(sg, "smokegate").replace(W, "$W").replace(B, "$B")
        s = re.sub(r"(\$W/hurl/[\w-]+/)\d+\.hurl( \$W/hurl/[\w-]+/\d+\.hurl)*", r"\1*.hurl", s)
        return s
    for wl, tools in (("W1", w1), ("W2", w2)):
        for n, argv in tools.items():
            w(f"# {wl} {n}\n{show(argv)}")
    w(f"# raw ceiling\nwrk -t2 -c{a.jobs} -d{a.wrk_secs}s $B/health")
    w(f"# {nb:,} checks\n{show(big_argv)}\n{show(val_argv)}")
    if bl:
        big_cmds = [show(big_tools["baseline-big"]), show(big_tools["baseline-validate-big"])]
        w(f"# {nb:,} checks, {BASE_NAME}\n" + "\n".join(big_cmds))
    w(f"# W3\nhyperfine -N --warmup 5 --runs 50 'smokegate --version' 'hurl --version' 'smokegate validate {suites}'\nhyperfine -N --warmup 2 --runs 10 'newman --version' 'stepci --version'")
    w("```\n")
    w("## Method\n")
    w(f"- One session, one nginx ({versions['nginx']}, 2 workers, `access_log off`, keep-alive) on "
      "127.0.0.1 serving static JSON with `return 200 '…'`; every tool and wrk hit the same "
      "locations. Traffic stays on loopback.")
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
