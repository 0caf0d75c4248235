"""Where the time of one ABPTT / ABP iteration goes, by op family and by layer (not a test; see docs/speed.md).

    python benchmarks/profile_iteration.py --case texture_paper --iterations 3
    python benchmarks/profile_iteration.py --case recovery_paper --iterations 2 --out benchmarks/results/profile_recovery.json

Builds a case of benchmarks/benchmark.py (the same configs and synthetic clip), runs `--warmup` iterations
(tracing), then records `--iterations` with the TensorFlow profiler and reads its per-op self-times back
(`framework_op_stats`, the table TensorBoard's profile plugin shows). Prints three Markdown tables, per iteration,
shares of the ops' total self-time:
by op family (a transposed convolution's forward is TF's Conv2DBackpropInput, its input-gradient a Conv2D, its
weight-gradient a Conv2DBackpropFilter), by layer (the op's name scope: `deconvN`, `normN`, the transition, the
rest), and by phase (the Langevin loop of inference against the learning step), with the wall time of unprofiled
iterations beside the ops' total: where the wall time is the larger, the difference is host time between ops
(Python, dispatch, idle cores).
"""

import argparse
import collections
import glob
import json
import os
import re
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # As main.py: oneDNN's kernels on every x86 CPU.

# Op type (oneDNN's `_MklNative` / `_Mkl` prefixes removed) -> family.
FAMILIES = {
    "Conv2DBackpropInput": "deconv forward", "Conv3DBackpropInputV2": "deconv forward",
    "Conv2D": "deconv input-gradient", "Conv3D": "deconv input-gradient",
    "Conv2DBackpropFilter": "deconv weight-gradient", "Conv3DBackpropFilterV2": "deconv weight-gradient",
    "FusedBatchNormEx": "normalisation", "FusedBatchNormV3": "normalisation",
    "FusedBatchNormGradV3": "normalisation gradient", "FusedBatchNormGradEx": "normalisation gradient",
    "Relu": "ReLU / tanh", "ReluGrad": "ReLU / tanh", "Tanh": "ReLU / tanh", "TanhGrad": "ReLU / tanh",
    "BiasAdd": "bias", "BiasAddGrad": "bias",
    "MatMul": "matmul (transition, first layers)", "FusedMatMul": "matmul (transition, first layers)",
}
LAYER = re.compile(r"(deconv\d+|norm\d+|transition|hidden\d+|residual)")


def family(op_type):
    name = re.sub(r"^_(MklNative|Mkl)", "", op_type)
    if name in FAMILIES:
        return FAMILIES[name]
    if name in ("Mul", "AddV2", "Add", "Sub", "Square", "Sum", "Neg", "RealDiv", "Cast", "Maximum", "Rsqrt"):
        return "elementwise / reductions"
    if name in ("Reshape", "ConcatV2", "Pack", "Unpack", "StridedSlice", "Tile", "Transpose", "Identity",
                "GatherV2", "Slice", "Fill", "ZerosLike", "OnesLike", "Shape"):
        return "copies / reshapes"
    return f"other ({name})"


def layer(operation):
    found = LAYER.search(operation)
    if not found:
        return "other (Langevin update, energy, Adam, copies)"
    return "transition" if found.group(1) in ("transition", "hidden1", "hidden2", "residual") else found.group(1)


def read_op_stats(logdir):
    """Rows of the profiler's framework_op_stats table: dicts with type, operation, total_self_time (µs)."""
    from tensorflow.python.profiler.internal import _pywrap_profiler_plugin
    paths = glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True)
    data, ok = _pywrap_profiler_plugin.xspace_to_tools_data(paths, "framework_op_stats", {})
    if not ok:
        raise RuntimeError(f"the profiler wrote nothing readable under {logdir}")
    table = json.loads(data)[0]
    columns = [column["id"] for column in table["cols"]]
    return [dict(zip(columns, [cell.get("v") if cell else None for cell in row["c"]])) for row in table["rows"]]


def build_step(case):
    """One iteration of a benchmarks/benchmark.py case, as a zero-argument callable."""
    import benchmark
    return benchmark.build_trainer(benchmark.case_spec(case)[0]).train_iteration


def summarise(rows, iterations, wall_seconds):
    """{table name: [(key, ms per iteration, share of the ops' self-time)]} from the op rows."""
    rows = [row for row in rows if row["type"] != "IDLE"]
    total = sum(row["total_self_time"] for row in rows) / 1e3 / iterations
    tables = {}
    for name, key in [("op family", lambda row: family(row["type"])), ("layer", lambda row: layer(row["operation"])),
                      ("phase", lambda row: "inference (Langevin loop)" if row["operation"].startswith("while/")
                       else "learning step and the rest")]:
        totals = collections.Counter()
        for row in rows:
            totals[key(row)] += row["total_self_time"] / 1e3 / iterations
        tables[name] = [(label, ms, ms / total) for label, ms in totals.most_common()]
    # Ops may overlap (inter-op parallelism) and the profiler adds its own cost: the two totals are shown as
    # measured, and their difference is host time between ops only where the wall time is the larger.
    tables["phase"] += [("all ops' self-time", total, 1.0),
                        ("wall time of an unprofiled iteration", 1e3 * wall_seconds, 1e3 * wall_seconds / total)]
    return tables


def markdown(tables):
    lines = []
    for name, entries in tables.items():
        lines += [f"| {name} | ms / iteration | share of the ops' self-time |", "| --- | --- | --- |"]
        lines += [f"| {label} | {ms:.0f} | {100 * share:.1f}% |" for label, ms, share in entries]
        lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="texture_paper", help="a case of benchmarks/benchmark.py")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--out", help="also write the tables and raw op rows as JSON here")
    args = parser.parse_args()
    sys.path.insert(0, os.path.join(REPO, "benchmarks"))
    import tensorflow as tf
    step = build_step(args.case)
    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(args.iterations):
        step()
    wall = (time.perf_counter() - start) / args.iterations
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        for _ in range(args.iterations):
            step()
        tf.profiler.experimental.stop()
        rows = read_op_stats(logdir)
    tables = summarise(rows, args.iterations, wall)
    print(f"{args.case}: {wall:.2f} s per iteration (mean of {args.iterations}, unprofiled); {os.cpu_count()} CPUs; "
          f"load average {os.getloadavg()[0]:.2f}\n")
    print(markdown(tables))
    if args.out:
        with open(args.out, "w") as handle:
            json.dump({"case": args.case, "seconds_per_iteration": wall, "tables": tables, "rows": rows}, handle,
                      indent=1)


if __name__ == "__main__":
    main()
