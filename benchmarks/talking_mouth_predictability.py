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
from abp_video.baselines import cca  # noqa: E402
from abp_video.data import talking_mouth  # noqa: E402
from st_generator import configs  # noqa: E402
from st_generator.experiments.multimodal import _loudness, nearest_utterance_oracle, split_utterances  # noqa: E402

flags.DEFINE_enum("preset", "quick", ["paper", "quick", "tiny"], "st_multimodal preset whose data sizes to use.")
flags.DEFINE_list("seeds", ["1", "2", "3"], "Seeds (data, split and CCA folds, as --seed).")
flags.DEFINE_list("voices", list(configs.VOICES), "Voice settings to compare (--voice).")
FLAGS = flags.FLAGS
PRESETS = dict(paper=configs.MULTIMODAL_PAPER, quick=configs.MULTIMODAL_QUICK, tiny=configs.MULTIMODAL_TINY)
COLUMNS = ("v2a_mean", "v2a_cca", "v2a_oracle", "v2a_loudness_mean", "v2a_loudness_cca", "v2a_loudness_oracle",
           "a2v_mean", "a2v_cca", "a2v_oracle")


def errors_of(config):
    """{column: error on the new speakers} for one config (its voice and seed)."""
    video, corpus = config.video, config.corpus
    data = talking_mouth.load(video.data, video.num_frames, video.image_size, config.audio.num_audio_samples,
                              corpus.num_speakers, corpus.num_phrases, corpus.num_repetitions, video.seed,
                              corpus.time_fit, corpus.voice)
    train, test, folds = split_utterances(data, corpus, video.seed)
    flat = data.videos.reshape(len(data.videos), -1)
    v2a, _ = cca.select_and_fit(flat[train], data.audio[train], folds, "x_to_y")
    a2v, _ = cca.select_and_fit(flat[train], data.audio[train], folds, "y_to_x")
    audio, videos = data.audio[test], data.videos[test]
    oracle_audio, oracle_video = nearest_utterance_oracle(data, train, test, video.num_frames)
    predicted_audio = dict(mean=data.audio[train].mean(0), cca=np.clip(v2a.predict_y(flat[test]), -1, 1),
                           oracle=oracle_audio)
    predicted_video = dict(mean=data.videos[train].mean(0),
                           cca=np.clip(a2v.predict_x(audio), -1, 1).reshape(videos.shape), oracle=oracle_video)
    loudness = _loudness(audio, video.num_frames)
    result = {}
    for method, predicted in predicted_audio.items():
        predicted = np.broadcast_to(predicted, audio.shape)
        result[f"v2a_{method}"] = float(np.abs(predicted - audio).mean())
        result[f"v2a_loudness_{method}"] = float(np.abs(_loudness(predicted, video.num_frames) - loudness).mean())
    for method, predicted in predicted_video.items():
        result[f"a2v_{method}"] = float(np.abs(predicted - videos).mean())
    return result


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
