"""Speed and memory of ABPTT iterations: prints a Markdown table and writes JSON (not a test; see docs/speed.md).

    python benchmarks/benchmark.py                  # paper presets + scaling sweeps (about 10-15 minutes)
    python benchmarks/benchmark.py --cases probe,texture_paper --repeats 3
    python benchmarks/benchmark.py --cases probe,texture_paper,recovery_paper,probe --precision float32,mixed_bfloat16 \
        --authors_code /tmp/Dynamic_generator      # the authors' code timed in the same run (authors_code.py)
    python benchmarks/benchmark.py --ab 9ef8609,HEAD --rounds 3 \
        --cases texture_paper,recovery_paper,st_recover_paper,texture_quick,recovery_quick,st_recover_quick
                                                   # two commits, interleaved in one run (A/B)

A/B (`--ab A,B`): each commit is checked out once as a detached git worktree under the temporary directory (`.`
is this working tree as it is); every round times the probe, then each case at A and at B as separate processes,
the order alternating from round to round so that a machine that slows down or speeds up favours neither. Both
commits run the case as this checkout defines it (its config fields applied to that commit's paper preset). The
table gives the median over rounds of each round's median, the speed-up A / B, peak RSS and the 1-minute load
average before each case; the machine (commit, CPU model, cores, load, TensorFlow) heads every table.

Each case runs in its own subprocess, so that its peak RSS is its own. Seconds per iteration are the median of
`--repeats` iterations after `--warmup` (tracing) iterations. GFLOP/s come from the analytic count below, and are
compared with a same-run probe: a Conv2DTranspose(512->256, kernel 4, stride 2, 'same') forward + input-gradient on
a [30, 4, 4, 512] input under tf.function, the convolution the authors' note measured at 420-560 GFLOP/s here.

FLOP count (multiply-adds count 2): a transposed convolution with a [h, w, c_in] input and k x k kernels to c_out
channels costs 2·h·w·k²·c_in·c_out forward; its input-gradient and its weight-gradient cost the same again each.
Per ABPTT iteration with T frames, l Langevin steps: T·(2·l + 3)·F, where F is the emission's forward cost per frame
(l forward + input-gradient passes, then one forward + input-gradient + weight-gradient pass for learning). The
transition MLP (~50 kFLOP per frame) is included; normalisation and activations are not counted.

The spatial-temporal generator (cases `st_*`): a 3D transposed convolution with an input of v voxels and c_in
channels, a k_t x k_h x k_w kernel to c_out channels costs 2·v·k_t·k_h·k_w·c_in·c_out forward, counting at
stride 1 only the taps that can meet an input value (Model-3's 7x7x7 layer on a 2x4x4 grid uses 3x7x7 of them:
st_generator/models.CroppedConv3DTranspose). Per ABP iteration with S segments and l Langevin steps:
S·(2·l + 3)·F, F the generator's forward cost per segment.
"""

import argparse
import dataclasses
import importlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # As main.py: oneDNN's kernels on every x86 CPU.

# The authors' TF1 code as quoted to us from another machine of this kind, for the table when their code is
# not run beside ours; `--authors_code DIR` times it in the same run instead (benchmarks/authors_code.py).
AUTHORS = {"texture_paper": {"seconds_per_iteration": 6.0, "peak_rss_gb": 1.0},
           "recovery_paper": {"seconds_per_iteration": 14.5, "peak_rss_gb": 3.1}}
AUTHORS_PRESETS = {"texture_paper": "texture", "recovery_paper": "recovery"}
ST_SEGMENTS = 8  # Segments per ABP iteration in the st_* cases (a clip of 256 frames at 32 frames per segment).


def emission_forward_flops(config):
    """Forward FLOPs of the emission network for one frame."""
    flops, size, channels = 0, 1, config.state_dim + config.appearance_dim
    for filters, kernel, stride in zip(config.emission_filters, config.emission_kernels, config.emission_strides):
        flops += 2 * size * size * kernel * kernel * channels * filters
        size = size * stride if stride > 1 else size - 1 + kernel  # 'same' if strided, else 'valid'.
        channels = filters
    return flops


def transition_flops(config):
    inputs = config.noise_dim + config.state_dim
    units = list(config.transition_hidden_units if config.transition == "nonlinear" else ()) + [config.state_dim]
    flops = 0
    for width in units:
        flops += 2 * inputs * width
        inputs = width
    return flops


def iteration_flops(config, num_clips=1):
    per_frame = emission_forward_flops(config) + transition_flops(config)
    return num_clips * config.num_frames * (2 * config.num_langevin_steps + 3) * per_frame


def st_forward_flops(config):
    """Forward FLOPs of the spatial-temporal generator for one segment."""
    from st_generator.models import layer_specs, used_taps
    flops, shape, channels = 0, list(config.latent_grid), config.latent_channels
    for filters, kernel, strides, padding in layer_specs(config.model, config.generator_filters,
                                                         config.first_kernel_time):
        voxels = shape[0] * shape[1] * shape[2]
        if padding == "same" and strides == (1, 1, 1):  # Only the taps that meet the input (CroppedConv3DTranspose).
            kernel = [len(range(taps)[used_taps(size, taps)]) for size, taps in zip(shape, kernel)]
        flops += 2 * voxels * kernel[0] * kernel[1] * kernel[2] * channels * filters
        shape = [size * stride if padding == "same" else (size - 1) * stride + k
                 for size, k, stride in zip(shape, kernel, strides)]
        channels = filters
    return flops


def st_iteration_flops(config, num_segments):
    return num_segments * (2 * config.num_langevin_steps + 3) * st_forward_flops(config)


def _st_cases():
    from st_generator import configs
    recover = configs.RECOVER_PAPER
    return {"st_recover_paper": (recover, ST_SEGMENTS),  # Model-3, 64x64x32, l = 20 (Tables 2-3).
            "st_recover_segments_4": (recover, 4), "st_recover_segments_16": (recover, 16),
            "st_interpolate_paper": (configs.INTERPOLATE_PAPER, 1),  # Model-2, 64x64x64, one clip (Table 1).
            "st_model1_paper": (configs.model_variant(configs.SYNTHESIS_PAPER, 1), 1),  # 128x128x64 (Figure 1).
            "st_recover_quick": (configs.RECOVER_QUICK, 4),  # Tables 2-3 quick: 4 training segments of 32x32x16.
            "st_interpolate_quick": (configs.INTERPOLATE_QUICK, 1),  # Table 1 quick: one clip of 32x32x32.
            # The same with 8 middle frames blocked: normalisation statistics over the visible frames (the default
            # on incomplete data; a commit before that setting takes them over every frame).
            "st_interpolate_quick_masked": (configs.INTERPOLATE_QUICK, 1)}


def _cases():
    from dynamic_generator import configs
    paper = configs.TEXTURE_PAPER
    recovery = dataclasses.replace(configs.with_image_size(paper, 150), num_frames=70, chunk_length=70, sigma=0.5)
    cases = {"texture_paper": (paper, 1, False), "recovery_paper": (recovery, 1, True),
             "texture_quick": (configs.TEXTURE_QUICK, 1, False),  # `python main.py`, texture_eval quick.
             "recovery_quick": (configs.RECOVER_QUICK, 1, True)}  # Table 2 quick (32x32x70, one chunk).
    for frames in (30, 60, 120):
        cases[f"frames_{frames}"] = (dataclasses.replace(paper, num_frames=frames), 1, False)
    for chunk in (10, 20, 60):
        cases[f"chunk_{chunk}"] = (dataclasses.replace(paper, chunk_length=chunk), 1, False)
    for clips in (2, 4):
        cases[f"clips_{clips}"] = (dataclasses.replace(paper, num_frames=30), clips, False)
    cases["image_128"] = (dataclasses.replace(configs.with_image_size(paper, 128), num_frames=30), 1, False)
    return cases


def case_spec(name):
    """What a child process needs to run case `name`, from this checkout's presets (JSON-able), and its config.

    The settings are every top-level field of the config; a child running another commit's code (`--ab`) applies
    those its config class has to that commit's paper preset, so that both sides run the same case.
    """
    if name.startswith("st_"):
        config, num_segments = _st_cases()[name]
        kind, clips, masked = "st", num_segments, name.endswith("_masked")
    else:
        config, clips, masked = _cases()[name]
        kind = "dg"
    settings = {key: value for key, value in dataclasses.asdict(config).items() if not isinstance(value, dict)}
    return dict(kind=kind, settings=settings, clips=clips, masked=masked), config


def case_flops(name, config, clips):
    if name.startswith("st_"):
        return st_iteration_flops(config, clips)
    return iteration_flops(config, clips)


def run_probe(repeats=30):
    import keras
    import tensorflow as tf
    layer = keras.layers.Conv2DTranspose(256, 4, 2, padding="same")
    inputs = tf.random.normal([30, 4, 4, 512])
    layer(inputs)

    @tf.function
    def forward_and_input_gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            total = tf.reduce_sum(tf.square(layer(x)))
        return tape.gradient(total, x)

    for _ in range(3):
        forward_and_input_gradient(inputs).numpy()
    durations = []
    for _ in range(repeats):
        start = time.perf_counter()
        forward_and_input_gradient(inputs).numpy()
        durations.append(time.perf_counter() - start)
    flops = 2 * (2 * 30 * 4 * 4 * 4 * 4 * 512 * 256)
    return {"gflops_per_second": flops / statistics.median(durations) / 1e9}


def shared_module(name):
    """`abp_video.<name>` of the code on sys.path, or the module it was before the shared package was named
    abp_video (`common.<name>`; `data.*` and `baselines.*` as they are), for A/B runs against older commits."""
    try:
        return importlib.import_module(f"abp_video.{name}")
    except ModuleNotFoundError:
        return importlib.import_module(name if name.startswith(("data.", "baselines.")) else f"common.{name}")


def trainer_class(package):
    """The ABP trainer of `package` (dynamic_generator or st_generator), under its name then or now."""
    train = importlib.import_module(f"{package}.train")
    return getattr(train, "DynamicGeneratorTrainer", None) or getattr(train, "STGeneratorTrainer", None) or train.Trainer


def build_trainer(spec, precision="float32"):
    """The trainer of a `case_spec` on a synthetic fire clip, with the code on sys.path (this checkout's, or
    `--code_dir`'s)."""
    import numpy as np
    synthetic, video_io = shared_module("data.synthetic"), shared_module("data.video_io")
    if spec["kind"] == "st":
        from st_generator import configs
        Trainer = trainer_class("st_generator")
        base = configs.RECOVER_PAPER
    else:
        from dynamic_generator import configs
        Trainer = trainer_class("dynamic_generator")
        base = configs.TEXTURE_PAPER
    fields = {field.name for field in dataclasses.fields(base)}
    settings = {key: tuple(value) if isinstance(value, list) else value for key, value in spec["settings"].items()
                if key in fields}
    config = dataclasses.replace(base, **settings)
    if spec["kind"] == "st":
        frames, size, _ = config.video_shape
        clip = video_io.normalize_frames(synthetic.make_texture("fire", frames, size, seed=0))
        observed = np.repeat(clip[None], spec["clips"], axis=0)
        if spec["masked"]:
            masks = shared_module("data.masks")
            visible = np.stack([masks.generate_mask("middle_frames", frames, size)] * spec["clips"])
            trainer = Trainer(config, observed, visible)
        else:
            trainer = Trainer(config, observed)
    else:
        config = dataclasses.replace(config, mixed_precision=precision == "mixed_bfloat16")
        clip = video_io.normalize_frames(synthetic.make_texture("fire", config.num_frames, config.image_size, seed=0))
        observed = np.repeat(clip[None], spec["clips"], axis=0)
        if spec["masked"]:
            # The recovery part with its defaults (masked normalisation statistics where the code has them).
            config = dataclasses.replace(config, incomplete=configs.IncompleteConfig())
            visible = np.ones_like(observed)
            low, high = int(0.3 * config.image_size), int(0.7 * config.image_size)
            visible[:, :, low:high, low:high] = 0.0  # A central region per frame (60x60 of 150x150, as the authors').
            trainer = Trainer(config, observed, visible=visible)
        else:
            trainer = Trainer(config, observed)
    return trainer


def _median_seconds(step, warmup, repeats):
    for _ in range(warmup):
        step()
    durations = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        durations.append(time.perf_counter() - start)
    return statistics.median(durations)


def run_child(name, args, precision, code_dir=None):
    """Runs one case in a subprocess (its own peak RSS), with `code_dir`'s code; the result dict, or None."""
    command = [sys.executable, __file__, "--case", name, "--warmup", str(args.warmup), "--repeats",
               str(args.repeats), "--precision", precision]
    config = None
    if name != "probe":
        spec, config = case_spec(name)
        command += ["--spec", json.dumps(spec)]
    if code_dir:
        command += ["--code_dir", code_dir]
    load = os.getloadavg()[0]
    output = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in output.stdout.splitlines() if line.startswith("RESULT ")]
    if output.returncode or not lines:
        print(f"{name} ({code_dir or 'this checkout'}): failed\n{output.stderr[-2000:]}", file=sys.stderr)
        return None
    result = dict(json.loads(lines[-1][len("RESULT "):]), case=name, precision=precision, load_average_before=load)
    if config is not None:
        flops = case_flops(name, config, spec["clips"])
        frames, size = (config.video_shape[:2] if spec["kind"] == "st" else (config.num_frames, config.image_size))
        chunk = frames if spec["kind"] == "st" else config.chunk_length
        result.update(tflop_per_iteration=flops / 1e12, gflops_per_second=flops / result["seconds_per_iteration"] / 1e9,
                      frames=frames, chunk=chunk, clips=spec["clips"], image_size=size)
    return result


def worktree(ref):
    """A directory holding commit `ref` (a detached git worktree, made once), or this checkout for `.`."""
    if ref == ".":
        return REPO
    sha = subprocess.run(["git", "-C", REPO, "rev-parse", "--verify", f"{ref}^{{commit}}"], capture_output=True,
                         text=True).stdout.strip()
    if not sha:
        raise SystemExit(f"--ab: {ref!r} is not a commit of {REPO}; give two commits (e.g. --ab 9ef8609,HEAD) or . "
                         f"for the working tree as it is")
    path = os.path.join(tempfile.gettempdir(), "benchmark_ab", sha[:12])
    if not os.path.isdir(os.path.join(path, "dynamic_generator")):
        subprocess.run(["git", "-C", REPO, "worktree", "add", "--force", "--detach", path, sha], check=True,
                       capture_output=True)
    return path


def run_ab(args, cases, precisions):
    """The same cases at two commits, interleaved: every round runs A then B, the next B then A, with a probe."""
    refs = args.ab.split(",")
    if len(refs) != 2:
        raise SystemExit(f"--ab takes two commits separated by a comma, got {args.ab!r}")
    sides = [(ref, worktree(ref)) for ref in refs]
    measured = {}  # (case, precision, ref) -> [result per round]
    probes = []
    for round_index in range(args.rounds):
        probe = run_child("probe", args, "float32")
        probes.append(probe["gflops_per_second"] if probe else float("nan"))
        for name in (case for case in cases if case != "probe"):
            for precision in precisions:
                for ref, path in sides if round_index % 2 == 0 else sides[::-1]:
                    result = run_child(name, args, precision, code_dir=path)
                    if result:
                        measured.setdefault((name, precision, ref), []).append(result)
                        print(f"round {round_index + 1} {name} ({precision}) at {ref}: "
                              f"{result['seconds_per_iteration']:.3f} s/it", file=sys.stderr)
    rows = [f"| case | precision | {refs[0]} s/it | {refs[1]} s/it | speed-up | rounds | {refs[1]} GFLOP/s "
            f"| peak RSS GB {refs[0]} / {refs[1]} | load before (1 min) |", "|" + " --- |" * 9]
    results = {}
    for name in (case for case in cases if case != "probe"):
        for precision in precisions:
            both = [measured.get((name, precision, ref), []) for ref in refs]
            if not all(both):
                continue
            medians = [statistics.median(r["seconds_per_iteration"] for r in side) for side in both]
            loads = [r["load_average_before"] for side in both for r in side]
            results[f"{name}@{precision}"] = {"refs": refs, "medians": medians, "rounds": both}
            gflops = 1e3 * both[1][0]["tflop_per_iteration"] / medians[1]
            rows.append(f"| {name} | {precision} | {medians[0]:.3f} | {medians[1]:.3f} | "
                        f"**{medians[0] / medians[1]:.2f}×** | {len(both[0])} | {gflops:.0f} "
                        f"| {max(r['peak_rss_gb'] for r in both[0]):.2f} / {max(r['peak_rss_gb'] for r in both[1]):.2f} "
                        f"| {min(loads):.2f}-{max(loads):.2f} |")
    return results, probes, "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="probe,texture_paper,recovery_paper,frames_30,frames_60,frames_120,"
                                           "chunk_10,chunk_20,chunk_60,clips_2,clips_4,image_128,st_recover_paper,"
                                           "st_recover_segments_4,st_recover_segments_16,st_interpolate_paper,"
                                           "st_model1_paper")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--precision", default="float32",
                        help="float32, mixed_bfloat16, or both comma-separated (every case runs in each)")
    parser.add_argument("--authors_code", help="a checkout of jianwen-xie/Dynamic_generator: time the authors' code "
                                               "on the paper presets in this run, just before ours")
    parser.add_argument("--ab", help="two commits, e.g. 9ef8609,HEAD (or . for the working tree): the same cases "
                                     "at both, interleaved, in git worktrees under the temporary directory")
    parser.add_argument("--rounds", type=int, default=3, help="--ab: rounds (each runs both commits once)")
    parser.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "benchmark.json"))
    parser.add_argument("--case", help=argparse.SUPPRESS)  # Internal: run one case in this process,
    parser.add_argument("--spec", help=argparse.SUPPRESS)  # as this spec (case_spec),
    parser.add_argument("--code_dir", help=argparse.SUPPRESS)  # with the code of this checkout.
    args = parser.parse_args()
    if args.case:
        if args.code_dir:
            sys.path.insert(0, args.code_dir)
        if args.case == "probe":
            result = run_probe()
        else:
            step = build_trainer(json.loads(args.spec), args.precision).train_iteration
            result = {"seconds_per_iteration": _median_seconds(step, args.warmup, args.repeats)}
        result["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
        print("RESULT " + json.dumps(result))
        return
    precisions = args.precision.split(",")
    unknown = sorted(set(precisions) - {"float32", "mixed_bfloat16"})
    if unknown:
        parser.error(f"unknown --precision {', '.join(unknown)}; give float32, mixed_bfloat16 or both")
    cases = args.cases.split(",")
    known = set(_cases()) | set(_st_cases()) | {"probe"}
    if set(cases) - known:
        parser.error(f"unknown --cases {', '.join(sorted(set(cases) - known))}; known: {', '.join(sorted(known))}")
    machine = shared_module("runs").machine_state()
    if args.ab:
        results, probes, table = run_ab(args, cases, precisions)
        header = (f"A/B over {args.rounds} rounds (medians of the rounds' medians); probe per round: "
                  f"{', '.join(f'{value:.0f}' for value in probes)} GFLOP/s; {describe(machine)}")
        print(header)
        print(table)
        _write(args.out, {"header": header, "machine": machine, "ab": results, "probes": probes, "table": table})
        return
    results, authors_measured, probes = {}, {}, []
    for name in cases:
        if args.authors_code and name in AUTHORS_PRESETS:
            authors_measured[name] = run_authors(args.authors_code, AUTHORS_PRESETS[name], args.repeats)
        for precision in ["float32"] if name == "probe" else precisions:
            result = run_child(name, args, precision)
            if result is None:
                continue
            print(f"{name} ({precision}): {result}", file=sys.stderr)
            if name == "probe":
                probes.append(result["gflops_per_second"])
            results[name if precision == "float32" else f"{name}@{precision}"] = result
    probe = min(probes) if probes else None
    header = (f"probe: {', '.join(f'{value:.0f}' for value in probes)} GFLOP/s (Conv2DTranspose 512->256 fwd + "
              f"input-grad, [30,4,4,512]; % of probe uses the lowest); {describe(machine)}" if probes else
              describe(machine))
    table = _table(results, authors_measured, probe)
    print(header)
    print(table)
    _write(args.out, {"header": header, "machine": machine, "results": results, "authors": authors_measured,
                      "table": table})


def describe(machine):
    """One line for a table's header: commit, CPU, cores, load, TensorFlow."""
    load = "/".join(f"{value:.2f}" for value in machine["load_average"])
    return (f"commit {machine['commit']}, {machine['cpu_model']}, {machine['cpus_usable']} of {machine['cpus']} "
            f"CPUs, load {load} (1/5/15 min) at the start, TensorFlow {machine['tensorflow']}, "
            f"TF_ENABLE_ONEDNN_OPTS={machine.get('onednn_opts')}")


def _write(path, value):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as handle:
        json.dump(value, handle, indent=2)


def run_authors(authors_code, preset, repeats):
    """The authors' code on `preset` (benchmarks/authors_code.py): 2 warm-up epochs + `repeats` timed ones."""
    out = os.path.join(REPO, "benchmarks", "results", f"authors_{preset}.json")
    command = [sys.executable, os.path.join(REPO, "benchmarks", "authors_code.py"), "--authors_code", authors_code,
               "--preset", preset, "--iterations", str(2 + repeats), "--out", out]
    output = subprocess.run(command, capture_output=True, text=True)
    if output.returncode or not os.path.exists(out):
        print(f"authors' {preset}: failed\n{output.stderr[-2000:]}", file=sys.stderr)
        return {}
    with open(out) as handle:
        measured = json.load(handle)
    print(f"authors' {preset}: {measured['iterations']} s, peak RSS {measured['peak_rss_gb']} GB", file=sys.stderr)
    return {"seconds_per_iteration": measured["median_after_warmup"], "peak_rss_gb": measured["peak_rss_gb"],
            "iterations": measured["iterations"], "measured": True}


def _table(results, authors_measured, probe):
    rows = ["| case | precision | frames | chunk | clips | size | s/iteration | TFLOP/it | GFLOP/s | % of probe "
            "| peak RSS GB | authors s/it | authors peak RSS GB | ours / authors |", "|" + " --- |" * 14]
    for result in results.values():
        name = result["case"]
        if name == "probe":
            continue
        authors = authors_measured.get(name) or AUTHORS.get(name, {})
        source = "" if not authors or authors.get("measured") else " (quoted)"
        ratio = f"{result['seconds_per_iteration'] / authors['seconds_per_iteration']:.2f}" if authors else ""
        share = f"{100 * result['gflops_per_second'] / probe:.0f}%" if probe else ""
        rows.append(f"| {name} | {result['precision']} | {result['frames']} | {result['chunk']} | {result['clips']} "
                    f"| {result['image_size']} | {result['seconds_per_iteration']:.2f} "
                    f"| {result['tflop_per_iteration']:.3f} | {result['gflops_per_second']:.0f} | {share} "
                    f"| {result['peak_rss_gb']:.2f} | {authors.get('seconds_per_iteration', '')}{source} "
                    f"| {authors.get('peak_rss_gb', '')}{source} | {ratio} |")
    return "\n".join(rows)


if __name__ == "__main__":
    main()
