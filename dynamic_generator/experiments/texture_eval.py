"""§4.1 / Figure 2 without people: ours and the LDS on the same clips, ranked by an automatic fooling rate."""

import dataclasses
import os
import time

import numpy as np

from abp_video.baselines import lds as lds_baseline
from abp_video import registry, runs
from abp_video.data import sources, video_io, writers
from dynamic_generator import configs, fooling_rate
from dynamic_generator.experiments.texture import (LDS_FILE, lds_config_from, restore_mocogan, train_lds,
                                                   train_mocogan, train_texture)
from dynamic_generator.restore import restore_trainer
from dynamic_generator.train import synthesis_start

# Synthesised clips per model, each twice the observed length (as in §4.1), and their noise seed.
EVAL_NUM_SAMPLES = 3

EVAL_SEED = 0

# The pictures of each clip's evaluation (`write_samples`): the first STRIP_SAMPLES synthesised clips of every model,
# every STRIP_EVERY-th frame.
STRIP_SAMPLES = 2
STRIP_EVERY = 12

# MoCoGAN's iterations (its authors' batches) in this table, `--mocogan_iterations` (0 leaves its rows out). From
# its curve at 32x32 (benchmarks/mocogan_budget.py; docs/texture.md, "MoCoGAN"): up to 2000 its clips of the real
# fire clip stand still (motion-energy ratio 0.00-0.01); at 4000, the largest count measured, they move on both
# clips, while the real clip's statistics distances are still changing.
MOCOGAN_ITERATIONS = 4000

def _eval_clip_name(clip):
    """`synthetic_fire`, `fire` (.../fire/fire.avi), `flashing_light_64ce210` (.../flashing_light/64ce210.avi)."""
    if clip.source.startswith(sources.SYNTHETIC_PREFIX) or not os.path.isfile(clip.source):
        return clip.name
    folder = os.path.basename(os.path.dirname(os.path.abspath(clip.source)))
    return clip.name if folder in ("", clip.name) else f"{folder}_{clip.name}"

def later_segments(clip, config, num_segments, segment_length):
    """Up to `num_segments` real segments of `segment_length` frames that follow the observed clip in its source.

    They are the reference row of the table: what the fooling rate and the distances give for real video of the
    same texture that no model saw (a synthetic texture is simply simulated further).

    Returns:
      list of float32 [segment_length, height, width, 3] in [-1, 1] (empty when the source is too short).
    """
    needed = config.num_frames + num_segments * segment_length
    if clip.source.startswith(sources.SYNTHETIC_PREFIX):
        frames = sources.load_clips(clip.source, needed, config.image_size, config.seed)[0].frames
    elif os.path.isfile(clip.source):
        frames = video_io.normalize_frames(video_io.read_video(clip.source, None, config.image_size))
    else:
        frames = video_io.normalize_frames(video_io.read_frame_folder(clip.source, None, config.image_size))
    if not np.allclose(frames[:config.num_frames], clip.frames, atol=1e-5):
        raise ValueError(f"{clip.source} did not decode to the same first {config.num_frames} frames twice")
    rest = frames[config.num_frames:needed]
    return [rest[start:start + segment_length] for start in range(0, len(rest) - segment_length + 1, segment_length)]

def _train_for_eval(method, config, lds_config, run_path, how):
    """Trains (or resumes) one method on one clip; returns (metrics, synthesised clips for the evaluation).

    `how`: the dynamic generator's start and burn-in (`train.synthesis_start`); the LDS starts from its training
    clip's first state, as Doretto et al. synthesise."""
    run = runs.RunDirectory(run_path)
    num_frames = 2 * config.num_frames
    if method == "lds":
        return train_lds(config, run_path, lds_config)[0][1], evaluation_clips(method, run_path, num_frames)
    before = run.read_metrics()
    start = time.perf_counter()
    metrics = (train_mocogan if method == "mocogan" else train_texture)(config, run_path)[0][1]
    seconds = time.perf_counter() - start
    if metrics["iterations"] > before.get("iterations", 0):
        # Wall-clock of the sessions that trained (a resumed run adds to what its earlier sessions took).
        metrics["train_seconds"] = before.get("train_seconds", 0.0) + seconds
        run.write_metrics(metrics)
    return metrics, evaluation_clips(method, run_path, num_frames, how)

def evaluation_clips(method, run_path, num_frames, how=None):
    """The clips the table measures from a trained run of `method` (`dg`, `lds` or `mocogan`) at `run_path`.

    `EVAL_NUM_SAMPLES` clips of `num_frames` frames (the table: twice the observed length) from noise seed
    `EVAL_SEED`; `how`: the dynamic generator's start and burn-in (default `train.synthesis_start()`, §4.1's). The
    benchmarks that look at the table's samples again (dg_replay, fooling_rate_by_length) call this, so they see the
    same clips.

    Returns:
      float32 [EVAL_NUM_SAMPLES, num_frames, height, width, 3] in [-1, 1].
    """
    if method == "lds":
        checkpoint_dir = runs.RunDirectory(run_path).checkpoint_dir
        lds = lds_baseline.LinearDynamicalSystem.load(os.path.join(checkpoint_dir, LDS_FILE))
        return lds.synthesize(EVAL_NUM_SAMPLES, num_frames, seed=EVAL_SEED)
    if method == "mocogan":
        return restore_mocogan(run_path)[1].synthesize(EVAL_NUM_SAMPLES, num_frames, seed=EVAL_SEED)
    _, trainer = restore_trainer(run_path)
    return trainer.synthesize(EVAL_NUM_SAMPLES, num_frames, seed=EVAL_SEED, **(how or synthesis_start()))

def write_samples(directory, observed, synthesised):
    """What the table measured, for people to look at; returns the paths written.

    `samples_strip.png`: one row per synthesised clip (the first `STRIP_SAMPLES` of each model's clips, models in the
    order of `synthesised`, a list of lists of clips), every `STRIP_EVERY`-th frame: synthesised frames only.
    `samples.gif`: the observed clip beside each model's first clip, looped to the longest.
    """
    rows = [clip for clips in synthesised for clip in clips[:STRIP_SAMPLES]]
    return [writers.write_png(os.path.join(directory, "samples_strip.png"), writers.frame_strip(rows, STRIP_EVERY)),
            writers.write_gif(os.path.join(directory, "samples.gif"),
                              writers.side_by_side([observed] + [clips[0] for clips in synthesised]))]

def _evaluate(observed, fakes, fooling_config):
    result = fooling_rate.fooling_rate(observed, fakes, fooling_config)
    return dict(fooling_rate=result["mean"], fooling_rate_std=result["std"], fooling_rate_per_seed=result["per_seed"],
                crop=result["crop"], **fooling_rate.statistics_distances(observed, fakes))

QUALITY_COLUMNS = (  # (header, row key, format)
    ("fooling rate", "fooling_rate", None), ("mean img", "mean_image_rmse", ".3f"),
    ("std img", "std_image_rmse", ".3f"), ("spatial PSD", "spatial_spectrum_distance", ".2f"),
    ("temporal PSD", "temporal_spectrum_distance", ".2f"), ("motion ratio", "motion_energy_ratio", ".2f"),
    ("nearest-frame MSE", "nearest_frame_mse", ".3f"), ("recon MSE", "recon_mse", ".4f"),
    ("train s", "train_seconds", ".1f"))

def format_quality_table(rows):
    """The Markdown table: one row per clip x method (and the real reference), one column per measure."""
    lines = ["| clip | method | " + " | ".join(header for header, _, _ in QUALITY_COLUMNS) + " |",
             "|" + " --- |" * (2 + len(QUALITY_COLUMNS))]
    for row in rows:
        cells = []
        for _, key, spec in QUALITY_COLUMNS:
            if key == "fooling_rate":
                cells.append(f"{row['fooling_rate']:.2f} ± {row['fooling_rate_std']:.2f}")
            else:
                cells.append("–" if row.get(key) is None else format(row[key], spec))
        lines.append(f"| {row['clip']} | {row['method']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)

def texture_eval(config, workdir=None, more_data=(), lds_config=lds_baseline.LdsConfig(),
                 fooling_config=fooling_rate.DEFAULT_CONFIG, start="random", burn_in=None,
                 mocogan_iterations=MOCOGAN_ITERATIONS):
    """§4.1 / Figure 2 without people: ours and the LDS on every clip, same frames, ranked by the fooling rate.

    For each clip of `config.data` and `more_data`: trains the dynamic generator (`config`'s budget, resumed if
    its run exists) and fits the LDS, synthesises `EVAL_NUM_SAMPLES` clips of twice the observed length from each,
    and measures them against the observed clip (fooling rate and statistics distances, dynamic_generator/fooling_rate.py).
    A `real` row does the same for the real segments that follow the observed clip in its source: the value a
    perfect model would get on that clip. Prints the Markdown table, writes it to `table.md` and `table.json`, and
    each clip's pictures to `<clip>/samples_strip.png` and `<clip>/samples.gif` (`write_samples`).
    `start`, `burn_in`: where the dynamic generator's clips start (`train.synthesis_start`; default §4.1's random
    s_0 and burn-in). MoCoGAN (abp_video/baselines/mocogan.py) trains `mocogan_iterations` of its batches per clip (0: no
    MoCoGAN rows).

    Returns:
      list of table rows (dicts).
    """
    how = synthesis_start(start, burn_in)
    specs = list(dict.fromkeys([config.data, *more_data]))
    workdir = workdir or os.path.join(runs.default_root(), "texture_eval", config.preset)
    # Every clip is read before the run directory is made, so bad input leaves nothing behind.
    loaded = [sources.load_clips(spec, config.num_frames, config.image_size, config.seed) for spec in specs]
    runs.RunDirectory(workdir).prepare(dataclasses.replace(config, experiment="texture_eval"))
    config = dataclasses.replace(config, experiment="texture", method="dg")
    methods = ("dg", "lds") + (("mocogan",) if mocogan_iterations else ())
    rows = []
    for clips in loaded:
        for clip in clips:
            name = _eval_clip_name(clip)
            clip_config = dataclasses.replace(config, data=clip.source)
            candidates = []
            for method in methods:
                method_config = dataclasses.replace(clip_config, method=method)
                if method == "mocogan":  # Its own budget, in its own iterations.
                    method_config = dataclasses.replace(method_config, num_iterations=mocogan_iterations)
                metrics, fakes = _train_for_eval(method, method_config, lds_config,
                                                 os.path.join(workdir, name, method), how)
                candidates.append((method, fakes, metrics))
            segments = later_segments(clip, config, EVAL_NUM_SAMPLES, 2 * config.num_frames)
            write_samples(os.path.join(workdir, name), clip.frames, [fakes for _, fakes, _ in candidates])
            if segments:
                candidates.append((f"real (next {len(segments)}x{2 * config.num_frames} frames)", segments, {}))
            for method, fakes, metrics in candidates:
                row = dict(clip=name, data=clip.source, method=method, recon_mse=metrics.get("recon_mse"),
                           train_seconds=metrics.get("train_seconds"), iterations=metrics.get("iterations"),
                           **_evaluate(clip.frames, fakes, fooling_config))
                if method == "lds":
                    row.update(state_dim=metrics["state_dim"], noise_dim=metrics["noise_dim"])
                rows.append(row)
                print(f"{name} {method}: fooling rate {row['fooling_rate']:.2f} ± {row['fooling_rate_std']:.2f}",
                      flush=True)
    table = format_quality_table(rows)
    with open(os.path.join(workdir, "table.md"), "w") as handle:
        handle.write(table + "\n")
    runs.write_json_atomic(os.path.join(workdir, "table.json"), {
        "preset": config.preset, "image_size": config.image_size, "num_frames": config.num_frames,
        "num_iterations": config.num_iterations, "mocogan_iterations": mocogan_iterations,
        "eval_num_samples": EVAL_NUM_SAMPLES,
        "synthesis_start": start, "burn_in": how["burn_in"],
        "eval_num_frames": 2 * config.num_frames, "eval_seed": EVAL_SEED,
        "samples_strip": dict(rows_per_method=STRIP_SAMPLES, every=STRIP_EVERY, methods=list(methods)),
        "fooling_rate_config": dataclasses.asdict(fooling_config), "lds_config": dataclasses.asdict(lds_config),
        "rows": rows, "markdown": table})
    print(f"\nSynthesis quality ({config.preset} preset: {config.num_frames} observed frames of "
          f"{config.image_size}x{config.image_size}, dg {config.num_iterations} iterations, MoCoGAN "
          f"{mocogan_iterations}; {EVAL_NUM_SAMPLES} "
          f"synthesised clips of {2 * config.num_frames} frames per method, dg from {start} s_0 after "
          f"{how['burn_in']} burn-in frames; fooling rate mean ± std over seeds "
          f"{list(fooling_config.seeds)}, 0.5 = indistinguishable)\n\n{table}\n\nwrote {workdir}/table.json")
    return rows


def _train_mode(config, workdir, options):
    mocogan_iterations = options["mocogan_iterations"]
    mocogan_iterations = MOCOGAN_ITERATIONS if mocogan_iterations is None else mocogan_iterations
    if mocogan_iterations < 0:
        raise ValueError(f"--mocogan_iterations must be 0 (no MoCoGAN rows) or positive, got {mocogan_iterations}")
    return texture_eval(config, workdir, options["more_data"], lds_config_from(options),
                        start=options["synthesis_start"], burn_in=options["burn_in"],
                        mocogan_iterations=mocogan_iterations)


registry.register(registry.Experiment(
    name="texture_eval", paper="AAAI'19 §4.1, Figure 2", config_class=configs.DynamicGeneratorConfig,
    presets=configs.PRESETS["texture"], resolve=configs.resolve, docs="docs/texture.md",
    modes={"train": registry.Mode(_train_mode, trains=True, options=("lds_state_dim", "lds_noise_dim",
                                                                      "synthesis_start", "burn_in",
                                                                      "mocogan_iterations"))}))
