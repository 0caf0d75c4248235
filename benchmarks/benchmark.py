"""Speed and memory of ABPTT iterations: prints a Markdown table and writes JSON (not a test; see docs/speed.md).

    python benchmarks/benchmark.py                  # paper presets + scaling sweeps (about 10-15 minutes)
    python benchmarks/benchmark.py --cases probe,texture_paper --repeats 3
    python benchmarks/benchmark.py --cases probe,texture_paper,recovery_paper,probe --precision float32,mixed_bfloat16 \
        --authors_code /tmp/Dynamic_generator      # the authors' code timed in the same run (authors_code.py)

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
import json
import os
import resource
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

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
            "st_model1_paper": (configs.model_variant(configs.SYNTHESIS_PAPER, 1), 1)}  # 128x128x64 (Figure 1).


def _cases():
    from dynamic_generator import configs
    paper = configs.TEXTURE_PAPER
    recovery = dataclasses.replace(configs.with_image_size(paper, 150), num_frames=70, chunk_length=70, sigma=0.5)
    cases = {"texture_paper": (paper, 1, False), "recovery_paper": (recovery, 1, True)}
    for frames in (30, 60, 120):
        cases[f"frames_{frames}"] = (dataclasses.replace(paper, num_frames=frames), 1, False)
    for chunk in (10, 20, 60):
        cases[f"chunk_{chunk}"] = (dataclasses.replace(paper, chunk_length=chunk), 1, False)
    for clips in (2, 4):
        cases[f"clips_{clips}"] = (dataclasses.replace(paper, num_frames=30), clips, False)
    cases["image_128"] = (dataclasses.replace(configs.with_image_size(paper, 128), num_frames=30), 1, False)
    return cases


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


def run_case(name, warmup, repeats, precision):
    import numpy as np
    from data import synthetic, video_io
    from dynamic_generator.train import Trainer
    if name == "probe":
        return run_probe()
    if name.startswith("st_"):
        return run_st_case(name, warmup, repeats)
    config, num_clips, masked = _cases()[name]
    config = dataclasses.replace(config, mixed_precision=precision == "mixed_bfloat16")
    clip = video_io.normalize_frames(synthetic.make_texture("fire", config.num_frames, config.image_size, seed=0))
    observed = np.repeat(clip[None], num_clips, axis=0)
    visible = None
    if masked:
        visible = np.ones_like(observed)
        visible[:, :, 45:105, 45:105] = 0.0  # A 60x60 region per frame, as the authors' region masks.
    trainer = Trainer(config, observed, visible=visible) if masked else Trainer(config, observed)
    seconds = _median_seconds(trainer.train_iteration, warmup, repeats)
    flops = iteration_flops(config, num_clips)
    return {"seconds_per_iteration": seconds, "tflop_per_iteration": flops / 1e12,
            "gflops_per_second": flops / seconds / 1e9, "frames": config.num_frames, "chunk": config.chunk_length,
            "clips": num_clips, "image_size": config.image_size}


def _median_seconds(step, warmup, repeats):
    for _ in range(warmup):
        step()
    durations = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        durations.append(time.perf_counter() - start)
    return statistics.median(durations)


def run_st_case(name, warmup, repeats):
    """One ABP iteration of the spatial-temporal generator over `ST_SEGMENTS` segments of a synthetic clip."""
    import numpy as np
    from data import synthetic, video_io
    from st_generator.train import Trainer
    config, num_segments = _st_cases()[name]
    frames, size, _ = config.video_shape
    clip = video_io.normalize_frames(synthetic.make_texture("fire", frames, size, seed=0))
    trainer = Trainer(config, np.repeat(clip[None], num_segments, axis=0))
    seconds = _median_seconds(trainer.train_iteration, warmup, repeats)
    flops = st_iteration_flops(config, num_segments)
    return {"seconds_per_iteration": seconds, "tflop_per_iteration": flops / 1e12,
            "gflops_per_second": flops / seconds / 1e9, "frames": frames, "chunk": frames,
            "clips": num_segments, "image_size": size}


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
    parser.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "benchmark.json"))
    parser.add_argument("--case", help=argparse.SUPPRESS)  # Internal: run one case in this process.
    args = parser.parse_args()
    if args.case:
        result = run_case(args.case, args.warmup, args.repeats, args.precision)
        result["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
        print("RESULT " + json.dumps(result))
        return
    precisions = args.precision.split(",")
    unknown = sorted(set(precisions) - {"float32", "mixed_bfloat16"})
    if unknown:
        parser.error(f"unknown --precision {', '.join(unknown)}; give float32, mixed_bfloat16 or both")
    results, authors_measured, probes = {}, {}, []
    for name in args.cases.split(","):
        if args.authors_code and name in AUTHORS_PRESETS:
            authors_measured[name] = run_authors(args.authors_code, AUTHORS_PRESETS[name], args.repeats)
        for precision in ["float32"] if name == "probe" else precisions:
            command = [sys.executable, __file__, "--case", name, "--warmup", str(args.warmup), "--repeats",
                       str(args.repeats), "--precision", precision]
            output = subprocess.run(command, capture_output=True, text=True)
            lines = [line for line in output.stdout.splitlines() if line.startswith("RESULT ")]
            if output.returncode or not lines:
                print(f"{name}: failed\n{output.stderr[-2000:]}", file=sys.stderr)
                continue
            result = dict(json.loads(lines[-1][len("RESULT "):]), case=name, precision=precision)
            print(f"{name} ({precision}): {result}", file=sys.stderr)
            if name == "probe":
                probes.append(result["gflops_per_second"])
            results[name if precision == "float32" else f"{name}@{precision}"] = result
    probe = min(probes) if probes else None
    header = (f"probe: {', '.join(f'{value:.0f}' for value in probes)} GFLOP/s (Conv2DTranspose 512->256 fwd + "
              f"input-grad, [30,4,4,512]; % of probe uses the lowest); {os.cpu_count()} CPUs" if probes else
              f"{os.cpu_count()} CPUs")
    table = _table(results, authors_measured, probe)
    print(header)
    print(table)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump({"header": header, "results": results, "authors": authors_measured, "table": table}, handle,
                  indent=2)


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
