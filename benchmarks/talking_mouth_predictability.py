"""Can a new speaker's other modality be predicted at all on the synthetic talking mouths? (not a test)

    python benchmarks/talking_mouth_predictability.py [--preset quick] [--seeds 1,2,3] [--voices shared,per_speaker]

For each voice setting and seed, builds `st_multimodal`'s data and speaker split exactly as the experiment does and
prints Table 4's error (mean absolute per value, [-1, 1]) on the new speakers for the predictors that need no
training of our model: the training mean, CCA (the experiment's, settings cross-validated over the training
speakers) and the nearest-utterance oracle (`nearest_utterance_oracle`: the training utterance nearest in the
hidden mouth parameters, within the voice register). V→A also by per-frame loudness (phase-blind). Then the mean ±
standard deviation over the seeds. Our model's figures come from `python main.py --experiment st_multimodal`.
"""

import os
import sys

import numpy as np
from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from abp_video import startup  # noqa: E402

startup.import_tensorflow_quietly()
from abp_video import configs as abp_configs  # noqa: E402
from st_generator import configs  # noqa: E402
from st_generator.experiments import multimodal  # noqa: E402

flags.DEFINE_enum("preset", "quick", ["paper", "quick", "tiny"], "st_multimodal preset whose data sizes to use.")
flags.DEFINE_list("seeds", ["1", "2", "3"], "Seeds (data, split and CCA folds, as --seed).")
flags.DEFINE_list("voices", list(configs.VOICES), "Voice settings to compare (--voice).")
FLAGS = flags.FLAGS
PRESETS = dict(paper=configs.MULTIMODAL_PAPER, quick=configs.MULTIMODAL_QUICK, tiny=configs.MULTIMODAL_TINY)
COLUMNS = ("v2a_mean", "v2a_cca", "v2a_oracle", "v2a_loudness_mean", "v2a_loudness_cca", "v2a_loudness_oracle",
           "a2v_mean", "a2v_cca", "a2v_oracle")


def errors_of(config):
    """{column: error on the new speakers} for one config (its voice and seed), as `st_multimodal` measures it."""
    data = multimodal.load_dataset(config)
    train, test, folds = multimodal.split_utterances(data, config.corpus, config.seed)
    references, _ = multimodal.reference_predictions(data, train, test, folds, config.video.num_frames)
    errors = multimodal.prediction_errors(references, data.audio[test], data.videos[test], config.video.num_frames)
    return {key: float(np.mean(errors[key])) for key in COLUMNS}


def main(argv):
    del argv
    print("| voice | seed | " + " | ".join(COLUMNS) + " |\n|" + " --- |" * (len(COLUMNS) + 2))
    for voice in FLAGS.voices:
        results = []
        for seed in FLAGS.seeds:
            config = abp_configs.with_settings(PRESETS[FLAGS.preset], dict(voice=voice, seed=int(seed)))
            results.append(errors_of(config.validate()))
            print(f"| {voice} | {seed} | " + " | ".join(f"{results[-1][key]:.4f}" for key in COLUMNS) + " |",
                  flush=True)
        print(f"| {voice} | mean ± std | " + " | ".join(
            f"{np.mean([r[key] for r in results]):.4f} ± {np.std([r[key] for r in results]):.4f}"
            for key in COLUMNS) + " |", flush=True)


if __name__ == "__main__":
    app.run(main)
