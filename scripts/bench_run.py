#!/usr/bin/env python3
"""Runs the workloads of scripts/bench in ntrain and in PyTorch, alternating, and prints the table.

Each benchmark is its own process: its throughput comes from its `RESULT {json}` line (timed
inside, data loading excluded), its wall time and peak RSS from os.wait4 on it.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def config(name):
    with open(os.path.join(REPO, "configs", name)) as f:
        return json.load(f)


def cpu_busy(seconds=1.0):
    """Fraction of all CPUs busy over `seconds` (from /proc/stat); 0 where unavailable."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]
    try:
        t0, i0 = sample()
        time.sleep(seconds)
        t1, i1 = sample()
    except OSError:
        return 0.0
    return 1 - (i1 - i0) / max(1, t1 - t0)


def wait_quiet(limit, max_wait):
    """Waits (up to max_wait s) until other processes use under `limit` of the CPUs: two benchmarks
    at once on a small machine slow each other down many times over. Returns the busy fraction seen."""
    start = time.time()
    busy = cpu_busy()
    while busy > limit and time.time() - start < max_wait:
        time.sleep(2)
        busy = cpu_busy()
    if busy > limit:
        sys.stderr.write(f"  warning: machine still {busy:.0%} busy after {max_wait:.0f} s; timing anyway\n")
    return busy


def run_rss(cmd, label):
    """Runs cmd with wait4 for its peak RSS; returns (RESULT dict, wall seconds, max RSS KiB)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - start
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if p.returncode != 0:
            sys.stderr.write(f"bench: {label} failed ({p.returncode}): {' '.join(cmd)}\n{err.read()[-3000:]}\n")
            raise SystemExit(1)
        res = {}
        for line in out.read().splitlines():
            if line.startswith("RESULT "):
                res = json.loads(line[len("RESULT "):])
        return res, wall, usage.ru_maxrss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="folder holding the release ntrain and ntrain-bench")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="1,2,3,4,5,6,7,8", help="workload numbers, e.g. 1,5 (8: MPI, ntrain only)")
    ap.add_argument("--markdown", help="also write the table as Markdown to this file")
    ap.add_argument("--recipe-images", type=int, default=10240, help="workload 7: training images per timed epoch (50000: a whole epoch)")
    ap.add_argument("--torch-compile", action="store_true", help="workload 7: time PyTorch with torch.compile (compilation untimed)")
    ap.add_argument("--quiet", type=float, default=0.15,
                    help="before each measurement wait until other processes use less than this fraction of the CPUs")
    ap.add_argument("--max-wait", type=float, default=300, help="seconds to wait for --quiet before timing anyway")
    args = ap.parse_args()
    only = {int(s) for s in args.only.split(",")}
    py = sys.executable
    torch_script = os.path.join(HERE, "bench_torch.py")
    bench = os.path.join(args.bin, "ntrain-bench")
    ntrain = os.path.join(args.bin, "ntrain")
    work = tempfile.mkdtemp(prefix="ntrain-bench-")
    threads = os.environ.get("BENCH_THREADS", "2")

    random_file = os.path.join(work, "random.bin")
    subprocess.run([bench, "dump-random", os.path.join(REPO, "configs/conv-bn-random.json"), random_file],
                   check=True, stdout=subprocess.DEVNULL)
    b2 = config("lenet5-gelu-mnist.json")["data"]["batch_size"]
    b3 = config("cifar10-cnn.json")["data"]["batch_size"]
    cfg = lambda n: os.path.join(REPO, "configs", n)
    ckpt_dir = os.path.join(work, "lenet-ckpt")
    torch_weights = os.path.join(work, "lenet.pt")

    workloads = [
        (1, "LeNet/MNIST train epoch, SGD, batch 64", "images/s", 2.0,
         [bench, "train", cfg("lenet-mnist.json"), ckpt_dir, "1"], [py, torch_script, "lenet", "--save", torch_weights]),
        (2, f"LeNet5-GELU/MNIST train epoch, NAdam, batch {b2}", "images/s", 2.0,
         [bench, "train", cfg("lenet5-gelu-mnist.json"), os.path.join(work, "w2"), "1"], [py, torch_script, "lenet5", str(b2)]),
        (3, f"CIFAR-10 tutorial CNN train epoch, batch {b3}", "images/s", 2.0,
         [bench, "train", cfg("cifar10-cnn.json"), os.path.join(work, "w3"), "1"], [py, torch_script, "cifar", str(b3)]),
        (4, "conv_bn on 1000 random 3x28x28, batch 8, 5 epochs", "images/s", 2.0,
         [bench, "train", cfg("conv-bn-random.json"), os.path.join(work, "w4"), "5"], [py, torch_script, "convbn", random_file]),
        (5, "LeNet inference, 10,000 images, batch 1000", "images/s", 1.5,
         [bench, "infer", "1000"], [py, torch_script, "infer", "1000"]),
        (6, "cold start: eval a LeNet checkpoint on 10,000 images", "wall s", 3.0,
         [ntrain, "eval", os.path.join(ckpt_dir, "last.mge"), "--json"], [py, torch_script, "coldstart", torch_weights]),
        (7, f"CIFAR-10 residual recipe train, batch 512, first {args.recipe_images:,} images", "images/s", 2.0,
         [bench, "train", cfg("cifar10-resnet.json"), os.path.join(work, "w7"), "1", f"data.limit={args.recipe_images}",
          "data.validation=null", "train.eval_every=0", "train.tta=none"],
         [py, torch_script, "resnet", str(args.recipe_images)] + (["--compile"] if args.torch_compile else [])),
    ]
    # Workload 6 needs workload 1's checkpoints.
    if 6 in only and 1 not in only:
        run_rss(workloads[0][4], "ntrain 1")
        run_rss(workloads[0][5], "torch 1")

    gemm = []
    def measure_gemm():
        res, _, _ = run_rss([bench, "gemm", "1024"], "gemm")
        gemm.append(res["gflops"])

    busy = []
    load_before = os.getloadavg()
    measure_gemm()
    samples = {w[0]: {"ntrain": [], "torch": []} for w in workloads}
    for r in range(args.runs):
        for num, title, unit, _, ncmd, tcmd in workloads:
            if num not in only:
                continue
            order = [("ntrain", ncmd), ("torch", tcmd)] if r % 2 == 0 else [("torch", tcmd), ("ntrain", ncmd)]
            for side, cmd in order:
                if side == "ntrain" and cmd[1] == "train":
                    shutil.rmtree(cmd[3], ignore_errors=True)  # a fresh run folder each time
                busy.append(wait_quiet(args.quiet, args.max_wait))
                res, wall, rss = run_rss(cmd, f"{side} workload {num}")
                samples[num][side].append(dict(res=res, wall=wall, rss=rss))
                value = wall if num == 6 else res["images_per_second"]
                sys.stderr.write(f"  run {r + 1} workload {num} {side:6s}: {value:10.2f} {unit}, RSS {rss / 1024:.0f} MiB\n")
    measure_gemm()
    load_after = os.getloadavg()
    ceiling = statistics.median(gemm)

    rows = []
    for num, title, unit, target, _, _ in workloads:
        if num not in only:
            continue
        n, t = samples[num]["ntrain"], samples[num]["torch"]
        rss_n = statistics.median(s["rss"] for s in n) / 1024
        rss_t = statistics.median(s["rss"] for s in t) / 1024
        if num == 6:
            vn = statistics.median(s["wall"] for s in n)
            vt = statistics.median(s["wall"] for s in t)
            ratio = vt / vn
            share = ""
            ok = vn <= vt / target
            tgt = f"≤ 1/{target:g}"
        else:
            vn = statistics.median(s["res"]["images_per_second"] for s in n)
            vt = statistics.median(s["res"]["images_per_second"] for s in t)
            ratio = vn / vt
            flops = n[0]["res"]["flops_per_image"]
            share = f"{100 * vn * flops / 1e9 / ceiling:.1f}%"
            ok = ratio >= target
            tgt = f"≥ {target:g}x"
        rss_ok = rss_n <= rss_t / 2
        rows.append([str(num), title, f"{vn:,.2f}" if num == 6 else f"{vn:,.0f}", f"{vt:,.2f}" if num == 6 else f"{vt:,.0f}",
                     unit, f"{ratio:.2f}x", tgt, "yes" if ok else "NO", share,
                     f"{rss_n:.0f}", f"{rss_t:.0f}", f"{rss_t / rss_n:.1f}x", "yes" if rss_ok else "NO"])
    header = ["#", "workload", "ntrain", "PyTorch", "unit", "ratio", "target", "met", "GEMM share",
              "ntrain RSS MiB", "PyTorch RSS MiB", "RSS ratio", "RSS ≤ 1/2"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    torch_version = next((s["res"].get("torch") for w in samples.values() for s in w["torch"] if s["res"].get("torch")), "?")
    info = [
        f"date: {datetime.datetime.now().isoformat(timespec='seconds')}",
        f"machine: {platform.machine()} {cpu_model()}, {os.cpu_count()} logical CPUs; threads: {threads} each",
        f"ntrain: {version(ntrain)}; PyTorch {torch_version}; Python {platform.python_version()}",
        f"OpenBLAS kernels: {blas_core(ntrain)}",
        f"GEMM ceiling: cblas_sgemm 1024³ at {threads} threads = {ceiling:.1f} GFLOP/s (median of runs {', '.join(f'{g:.0f}' for g in gemm)})",
        f"medians of {args.runs} alternating runs; load average before {load_before[0]:.2f}, after {load_after[0]:.2f}; "
        f"other processes' CPU use just before each measurement: median {statistics.median(busy or [0]):.0%}, max {max(busy or [0]):.0%}",
        "ratio = ntrain/PyTorch images/s (workload 6: PyTorch wall / ntrain wall)",
    ]
    text = "\n".join(info) + "\n\n" + "\n".join(lines) + "\n"
    if 8 in only:
        text += "\n" + mpi_workload(bench, work, args, cfg, busy) + "\n"
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)


def mpi_workload(bench, work, args, cfg, busy):
    """Workload 8: LeNet/MNIST epochs as 1 rank x 2 threads and as 2 ranks x 1 thread (mpirun, the
    same global batch of 64), alternating, and the median MPI_Allreduce time of gradient sizes."""
    mpirun = shutil.which("mpirun")
    if not mpirun:
        return "workload 8 skipped: mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)\n"
    launch = [mpirun, "-np", "2"] + (["--allow-run-as-root"] if os.geteuid() == 0 else []) + ["-x", "NTRAIN_THREADS=1"]
    lenet = cfg("lenet-mnist.json")
    one = [bench, "train", lenet, os.path.join(work, "w8a"), "1"]
    two = launch + [bench, "train", lenet, os.path.join(work, "w8b"), "1", "data.batch_size=32"]
    results = {"one": [], "two": []}
    for r in range(args.runs):
        order = [("one", one), ("two", two)] if r % 2 == 0 else [("two", two), ("one", one)]
        for side, cmd in order:
            out = cmd[cmd.index("train") + 2]
            shutil.rmtree(out, ignore_errors=True)
            busy.append(wait_quiet(args.quiet, args.max_wait))
            res, _, _ = run_rss(cmd, f"workload 8 {side}")
            results[side].append(res)
            sys.stderr.write(f"  run {r + 1} workload 8 {side}: {res['images_per_second']:10.0f} images/s\n")
    a = statistics.median(x["images_per_second"] for x in results["one"])
    b = statistics.median(x["images_per_second"] for x in results["two"])
    acc_a = results["one"][0].get("eval_accuracy", float("nan"))
    acc_b = results["two"][0].get("eval_accuracy", float("nan"))
    lines = ["Workload 8: data-parallel LeNet/MNIST epoch, global batch 64 (ntrain only)", "",
             "| layout | images/s | eval accuracy after 1 epoch |", "|---|---|---|",
             f"| 1 rank x 2 threads, batch 64 | {a:,.0f} | {acc_a:.4f} |",
             f"| 2 ranks x 1 thread (mpirun), batch 32 per rank | {b:,.0f} | {acc_b:.4f} |",
             f"| ratio 2 ranks / 1 rank | {b / a:.2f}x | |", ""]
    sizes = [("LeNet", params(bench, cfg("lenet-mnist.json"))), ("CIFAR-10 tutorial CNN", params(bench, cfg("cifar10-cnn.json"))),
             ("ResNet-20 (CIFAR)", 272474), ("ResNet-18 (CIFAR)", 11173962)]
    lines += ["MPI_Allreduce (in place, float32 sum) on loopback, 2 ranks, median of 50",
              "", "| gradient of | floats | ms | bus GB/s |", "|---|---|---|---|"]
    for name, count in sizes:
        busy.append(wait_quiet(args.quiet, args.max_wait))
        res, _, _ = run_rss(launch + [bench, "allreduce", str(count), "50"], f"allreduce {count}")
        lines.append(f"| {name} | {count:,} | {res['ms']:.3f} | {res['bus_gb_per_s']:.2f} |")
    return "\n".join(lines) + "\n"


def params(bench, config_path):
    res, _, _ = run_rss([bench, "params", config_path], "params")
    return int(res["params"])


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def blas_core(ntrain):
    """The kernels ntrain's OpenBLAS runs here and why, from `ntrain devices --json`."""
    try:
        out = subprocess.run([ntrain, "devices", "--json"], capture_output=True, text=True).stdout
        blas = json.loads(out)["cpu"]["blas"]
    except (OSError, ValueError, KeyError):
        return "?"
    variable = os.environ.get("OPENBLAS_CORETYPE")
    return (f"{blas.get('core')} ({blas.get('reason')}; OPENBLAS_CORETYPE "
            + (f"={variable}" if variable else "unset") + f"), 512³ on 1 thread {blas.get('gemm_512_gflops') or 0:.0f} GFLOP/s")


def version(ntrain):
    try:
        return subprocess.run([ntrain, "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


if __name__ == "__main__":
    main()
