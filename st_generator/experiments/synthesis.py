"""WACV'19 §4.1 synthesis (Figure 1): Model-1/2 from one clip, Model-3 from many segments, then new videos."""

import numpy as np

from abp_video import registry, runs
from abp_video.data import writers
from st_generator import configs, export
from st_generator.experiments.base import default_workdir, load_segments, train

def run_synthesis(config, workdir=None):
    """Learns Model-1/2 from one clip or Model-3 from many segments, and synthesises (Figure 1).

    Model-1 synthesises from a latent grid larger in space and time, Model-2 from a longer one (`synthesis_grid`).
    Writes `samples/observed_reconstructed.{gif,mp4}` and strip, `samples/synthesised.{gif,mp4}` and strip, and
    `metrics.json`.

    Returns:
      (run directory path, metrics dict).
    """
    config.validate()
    clip, segments = load_segments(config)
    run = runs.RunDirectory(workdir or default_workdir(config))
    trainer, loop = train(config, run, segments, description=f"st_synthesis model {config.model} {clip.name}")
    reconstruction = trainer.reconstruct()
    samples = trainer.synthesize(config.num_output_samples, seed=config.seed, grid=config.synthesis_grid or None)
    shown = min(2, len(segments))
    observed, rebuilt = (np.concatenate(list(video[:shown])) for video in (segments, reconstruction))
    paths = [writers.write_gif(run.sample_path("observed_reconstructed.gif"), writers.side_by_side([observed, rebuilt])),
             writers.write_png(run.sample_path("observed_reconstructed_strip.png"),
                               writers.frame_strip([observed, rebuilt], every=max(1, len(observed) // 10)))]
    video = writers.side_by_side(list(samples))
    paths += [writers.write_gif(run.sample_path("synthesised.gif"), video),
              writers.write_mp4(run.sample_path("synthesised.mp4"), video),
              writers.write_png(run.sample_path("synthesised_strip.png"),
                                writers.frame_strip(list(samples), every=max(1, samples.shape[1] // 10)))]
    result = dict(loop, clip=clip.name, data=clip.source, model=config.model, segments=len(segments),
                  recon_mse=float(np.mean(np.square(reconstruction - segments))),
                  synthesised_shape=list(samples.shape[1:4]))
    run.write_metrics(result)
    print(f"{clip.name}, Model-{config.model}: reconstruction MSE {result['recon_mse']:.4f} over {len(segments)} "
          f"segment(s) after {result['iterations']} iterations; synthesised {samples.shape[1]} frames of "
          f"{samples.shape[2]}x{samples.shape[3]}; wrote {', '.join(paths)}")
    return run.path, result


registry.register(registry.Experiment(
    name="st_synthesis", paper="WACV'19 §4.1, Figure 1", config_class=configs.STConfig,
    presets=configs.PRESETS["st_synthesis"], resolve=configs.resolve, docs="docs/st_synthesis.md",
    modes={"train": registry.Mode(lambda config, workdir, options: run_synthesis(config, workdir), trains=True)},
    export=export.export_generator))
