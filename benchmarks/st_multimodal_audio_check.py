"""Why a V→A waveform loses to the training mean (not a test): its loudness, its phase, and silence as a predictor.

    python benchmarks/st_multimodal_audio_check.py RUN/seed1 [RUN/seed2 ...]

For finished `st_multimodal` runs: restores the model, predicts the test utterances' audio from their video again
(the run's seed, so the same as its table up to Langevin noise order), and prints per run Table 4's error of ours, of
the training mean and of silence (all zeros); the ratio of ours' and the mean's root mean square to the true
audio's (1: the right loudness); ours' error at its best shift within ±40 samples (a phase error costs what this
removes); and ours at half amplitude (a mean absolute error rewards shrinking a prediction whose phase is wrong).
"""

import argparse
import os
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from abp_video import startup  # noqa: E402

startup.import_tensorflow_quietly()
from abp_video import runs  # noqa: E402
from st_generator import configs as st_configs  # noqa: E402
from st_generator.experiments import multimodal  # noqa: E402
from st_generator.multimodal import MultimodalTrainer  # noqa: E402

MAX_SHIFT = 40


def rms(audio):
    return np.sqrt(np.mean(np.square(audio), axis=1))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="finished st_multimodal run directories")
    args = parser.parse_args()
    print("| run | ours | training mean | silence | RMS ours / true | RMS mean / true | ours, best shift | "
          "ours × 0.5 |\n| --- | --- | --- | --- | --- | --- | --- | --- |")
    for path in args.runs:
        run = runs.RunDirectory(path)
        config = run.read_config(st_configs.MultimodalConfig)
        dataset = multimodal.load_dataset(config)
        train, test, _ = multimodal.split_utterances(dataset, config.corpus, config.video.seed)
        trainer = MultimodalTrainer(config, dataset.videos[train], dataset.audio[train])
        if not runs.Checkpointer(run.checkpoint_dir, **trainer.trackables()).restore_or_initialize():
            raise SystemExit(f"error: no checkpoint in {run.checkpoint_dir}; give finished st_multimodal runs")
        audio = dataset.audio[test]
        ours, _ = trainer.predict(dataset.videos[test], audio, seed=config.video.seed)
        mean = np.broadcast_to(dataset.audio[train].mean(0), audio.shape)
        shifted = np.mean([min(np.mean(np.abs(np.roll(predicted, shift) - observed))
                               for shift in range(-MAX_SHIFT, MAX_SHIFT + 1))
                           for predicted, observed in zip(ours, audio)])
        print(f"| {os.path.basename(os.path.normpath(path))} | {np.mean(np.abs(ours - audio)):.4f} | "
              f"{np.mean(np.abs(mean - audio)):.4f} | {np.mean(np.abs(audio)):.4f} | "
              f"{np.mean(rms(ours) / rms(audio)):.2f} | {np.mean(rms(mean) / rms(audio)):.2f} | {shifted:.4f} | "
              f"{np.mean(np.abs(0.5 * ours - audio)):.4f} |", flush=True)


if __name__ == "__main__":
    main()
