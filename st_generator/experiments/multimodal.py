"""WACV'19 §3.5 / §4.2, Table 4: the shared audio-video representation, cross-modal prediction against CCA."""

import os

import numpy as np
import tensorflow as tf

from abp_video.baselines import cca
from abp_video import configs, registry, runs
from abp_video.loop import run_training
from abp_video.data import sources, talking_mouth, writers
from st_generator import configs as st_configs, paper
from st_generator.experiments.base import write_table
from st_generator.multimodal import MultimodalTrainer

def split_utterances(dataset, corpus, seed):
    """The training and test utterances and the folds CCA's settings are cross-validated over.

    Speaker split (§4.2) when `corpus.test_speakers` > 0: `train_speakers` speakers drawn at random by `seed` train,
    `test_speakers` others are the test set, and CCA's folds are the training speakers (so its settings are chosen
    for new speakers too). Otherwise the last `test_repetitions` repetitions of every speaker and phrase are the
    test set and the folds are the training repetitions.

    Returns:
      (train mask, test mask) bool [utterances], folds [training utterances].
    """
    if corpus.test_speakers:
        speakers = np.unique(dataset.speakers)
        needed = corpus.train_speakers + corpus.test_speakers
        if len(speakers) < needed:
            raise ValueError(f"--data {dataset.source}: {len(speakers)} speakers, but --train_speakers "
                             f"{corpus.train_speakers} + --test_speakers {corpus.test_speakers} need {needed}; "
                             f"lower them")
        order = np.random.default_rng(seed).permutation(speakers)
        train = np.isin(dataset.speakers, order[:corpus.train_speakers])
        test = np.isin(dataset.speakers, order[corpus.train_speakers:needed])
        return train, test, dataset.speakers[train]
    test = dataset.repetitions >= dataset.repetitions.max() + 1 - corpus.test_repetitions
    if not test.any() or len(np.unique(dataset.repetitions[~test])) < 2:
        raise ValueError(f"--data {dataset.source}: repetitions {sorted(set(dataset.repetitions.tolist()))} with "
                         f"--test_repetitions {corpus.test_repetitions} leave no test utterance or fewer than 2 "
                         f"training repetitions; lower --test_repetitions")
    return ~test, test, dataset.repetitions[~test]

def _per_utterance_errors(name, predicted, observed):
    """{name: mean absolute difference per value (Table 4's measure), name_mse: mean squared}, each [utterances]."""
    difference = (predicted - observed).reshape(len(observed), -1)
    return {name: np.mean(np.abs(difference), axis=1), f"{name}_mse": np.mean(np.square(difference), axis=1)}

def _loudness(audio, num_frames):
    """Root mean square of the audio over each video frame's span, [utterances, frames]: a phase-blind view."""
    usable = audio.shape[1] // num_frames * num_frames
    return np.sqrt(np.mean(np.square(audio[:, :usable]).reshape(len(audio), num_frames, -1), axis=2))

def _write_multimodal_samples(run, config, videos, audio, from_audio, cca_from_audio, from_video, cca_from_video):
    """observed video | ours from audio | CCA from audio (one row per test utterance), and the waveforms."""
    shown = slice(0, config.video.num_output_samples)
    rows = [[observed, ours, cca] for observed, ours, cca in zip(videos[shown], from_audio[shown],
                                                                  cca_from_audio[shown])]
    grid = writers.grid(rows)
    every = max(1, config.video.num_frames // 10)
    strip_rows = [clip for row in rows for clip in row]
    colours = [(0, 0, 0), (220, 30, 30), (40, 90, 220)]
    waves = writers.waveform_plot([[real, ours, cca] for real, ours, cca in zip(
        audio[shown], from_video[shown], cca_from_video[shown])], colours)
    return [writers.write_gif(run.sample_path("video_observed_from_audio_cca.gif"), grid),
            writers.write_png(run.sample_path("video_observed_from_audio_cca_strip.png"),
                              writers.frame_strip(strip_rows, every=every)),
            writers.write_png(run.sample_path("audio_real_from_video_cca.png"), waves)]

METHOD_NAMES = dict(ours="ours", cca="CCA", mean="training mean", oracle="oracle")  # Table 4's column names.


def load_dataset(config):
    """The utterances `config` names: the synthetic set (sized and voiced by the config) or an OuluVS folder."""
    video, corpus = config.video, config.corpus
    return talking_mouth.load(video.data, video.num_frames, video.image_size, config.audio.num_audio_samples,
                              corpus.num_speakers, corpus.num_phrases, corpus.num_repetitions, video.seed,
                              corpus.time_fit, corpus.voice)


def reference_predictions(dataset, train, test, folds, num_frames):
    """What Table 4 sets beside our model, for the `test` utterances, per direction ("v2a", "a2v"): CCA on the raw
    signals (flattened), fitted on the `train` pairs with one setting per direction chosen over `folds`; the
    training mean, for scale (what predicting nothing from the other modality scores); and, on the synthetic set,
    `nearest_utterance_oracle`.

    Returns:
      ({direction: {method: predicted values}}, {direction: CCA's chosen settings}).
    """
    flat_videos = dataset.videos.reshape(len(dataset.videos), -1)
    audio, videos = dataset.audio[test], dataset.videos[test]
    cca_v2a, chosen_v2a = cca.select_and_fit(flat_videos[train], dataset.audio[train], folds, "x_to_y")
    cca_a2v, chosen_a2v = cca.select_and_fit(flat_videos[train], dataset.audio[train], folds, "y_to_x")
    references = {
        "v2a": dict(cca=np.clip(cca_v2a.predict_y(flat_videos[test]), -1, 1).astype(np.float32),
                    mean=np.broadcast_to(dataset.audio[train].mean(0), audio.shape)),
        "a2v": dict(cca=np.clip(cca_a2v.predict_x(audio), -1, 1).reshape(videos.shape).astype(np.float32),
                    mean=np.broadcast_to(dataset.videos[train].mean(0), videos.shape))}
    oracle = nearest_utterance_oracle(dataset, train, test, num_frames)
    if oracle is not None:
        references["v2a"]["oracle"], references["a2v"]["oracle"] = oracle
    return references, {"v2a": chosen_v2a, "a2v": chosen_a2v}


def prediction_errors(predictions, audio, videos, num_frames):
    """Per test utterance, Table 4's error of every prediction ({direction: {method: values}}) against the observed
    `audio` (V→A) and `videos` (A→V): `<direction>_<method>` and its `_mse`; and V→A by the per-frame loudness
    (`v2a_loudness_<method>`): a waveform error punishes a right sound at a slightly wrong phase, loudness does not.
    """
    errors = {}
    for direction, observed in (("v2a", audio), ("a2v", videos)):
        for method, predicted in predictions[direction].items():
            errors.update(_per_utterance_errors(f"{direction}_{method}", predicted, observed))
    loudness = _loudness(audio, num_frames)
    for method, predicted in predictions["v2a"].items():
        errors.update(_per_utterance_errors(f"v2a_loudness_{method}", _loudness(predicted, num_frames), loudness))
    return errors


def nearest_utterance_oracle(dataset, train, test, num_frames):
    """What a predictor that reads the synthetic set's hidden mouth parameters gets: for each test utterance, the
    other modality of the training utterance nearest in what the given modality shows, among the training speakers
    of its voice register (`talking_mouth.register_of`, told by the mouth's width in the video and the pitch in the
    audio; any speaker when none of them shares it). V→A: nearest by the per-frame mouth opening and width
    (`dataset.mouth`); A→V: nearest by the per-frame loudness of the audio. An upper reference that says whether a
    new speaker's modality can be predicted from the training speakers at all, not a method of the paper.

    Returns:
      (audio from video [test, samples], video from audio [test, frames, size, size, 3]), or None for a set without
      mouth parameters (OuluVS).
    """
    if dataset.mouth is None:
        return None
    registers = np.array([talking_mouth.register_of(width) for width in dataset.mouth_widths])
    other_register = registers[test][:, None] != registers[train][None]

    def nearest(features):
        distances = np.square(features[test][:, None] - features[train][None]).sum(axis=-1)
        return np.argmin(distances + np.where(other_register, distances.max() + 1.0, 0.0), axis=1)

    by_video = nearest(dataset.mouth.reshape(len(dataset.mouth), -1))
    by_audio = nearest(_loudness(dataset.audio, num_frames))
    return dataset.audio[train][by_video], dataset.videos[train][by_audio]


def run_multimodal(config, workdir=None):
    """Table 4: learns the shared audio-video representation by ABP and predicts each modality from the other.

    Trains the video and audio generators on one latent Z per training utterance (joint energy), then, frozen,
    infers Z from the video of each held-out utterance and generates its audio (V→A), and from its audio generates
    its video (A→V). CCA (PCA, then regularised CCA; settings chosen by cross-validation over the training
    speakers or repetitions) predicts the same. The error is Table 4's mean absolute difference per value on the
    [-1, 1] scale (the mean squared as `*_mse`), per test utterance, averaged per phrase, beside the training mean
    and, on the synthetic set, `nearest_utterance_oracle`. Writes `table.json` /
    `table.md` (and prints the table), `metrics.json`, `samples/video_observed_from_audio_cca.gif` and strip, and
    `samples/audio_real_from_video_cca.png`.

    Returns:
      (run directory path, metrics dict).
    """
    config.validate()
    video, corpus = config.video, config.corpus
    dataset = load_dataset(config)
    train, test, folds = split_utterances(dataset, corpus, video.seed)
    run = runs.RunDirectory(workdir or os.path.join(runs.default_root(), config.experiment,
                                                    f"{sources.data_name(config.data)}_{config.preset}"))
    run.prepare(config)
    trainer = MultimodalTrainer(config, dataset.videos[train], dataset.audio[train])
    loop = run_training(trainer, run, f"st_multimodal {sources.data_name(config.data)}")
    videos, audio = dataset.videos[test], dataset.audio[test]
    from_video, from_audio = trainer.predict(videos, audio, seed=video.seed)

    references, chosen_settings = reference_predictions(dataset, train, test, folds, video.num_frames)
    predictions = {"v2a": dict(ours=from_video, **references["v2a"]),
                   "a2v": dict(ours=from_audio, **references["a2v"])}
    errors = prediction_errors(predictions, audio, videos, video.num_frames)
    phrases = dataset.phrases[test]
    rows = []
    for index, name in enumerate(dataset.phrase_names):
        chosen = phrases == index
        if chosen.any():
            rows.append(dict(phrase=name, utterances=int(chosen.sum()),
                             **{key: float(np.mean(value[chosen])) for key, value in errors.items()}))
    rows.append(dict(phrase="all", utterances=int(test.sum()),
                     **{key: float(np.mean(value)) for key, value in errors.items()}))
    reconstructed_videos, reconstructed_audio = trainer.reconstruct()
    result = dict(loop, data=dataset.source, train_utterances=int(train.sum()), test_utterances=int(test.sum()),
                  audio_sigma=config.resolved_audio_sigma,
                  recon_mse=float(np.mean(np.square(reconstructed_videos - dataset.videos[train]))),
                  audio_recon_mse=float(np.mean(np.square(reconstructed_audio - dataset.audio[train]))),
                  **{f"cca_{direction}_{key}": value for direction, chosen in chosen_settings.items()
                     for key, value in chosen.items()},
                  **{f"{row['phrase']}_{key}": row[key] for row in rows for key in errors})
    writer = tf.summary.create_file_writer(run.tensorboard_dir)
    with writer.as_default(step=loop["iterations"]):
        for key in errors:
            tf.summary.scalar(f"eval/{key}", result[f"all_{key}"])
    writer.flush()
    run.write_metrics(result)
    paths = _write_multimodal_samples(run, config, videos, audio, from_audio, references["a2v"]["cca"], from_video,
                                      references["v2a"]["cca"])
    split = (f"{corpus.train_speakers} training speakers, {corpus.test_speakers} new test speakers"
             if corpus.test_speakers else f"held-out repetitions of seen speakers")
    title = (f"Prediction error (mean absolute per value, [-1, 1]) on {int(test.sum())} test utterances, "
             f"{dataset.source} ({config.preset} preset: {video.image_size}x{video.image_size}, {video.num_frames} "
             f"frames, {config.audio.num_audio_samples} audio samples, {split}, {int(train.sum())} training "
             f"utterances, {loop['iterations']} iterations; test-time Langevin {video.recovery_langevin_steps} steps "
             f"of δ = {video.recovery_step_size}), then the paper's Table 4 (OuluVS, 64x64x32, 48,000 samples)")
    columns, header = [], []
    for direction, shown in (("v2a", "V→A"), ("a2v", "A→V")):
        for method in predictions[direction]:
            columns.append(f"{direction}_{method}")
            header.append(f"{shown} {METHOD_NAMES[method]}")
    lines = [[row["phrase"], *(f"{row[key]:.4f}" for key in columns)] for row in rows] + paper.table_4_lines(columns)
    write_table(run.path, title, ["phrase", *header], lines, dict(config=configs.to_dict(config), rows=rows))
    print(f"wrote {', '.join(paths)}")
    return run.path, result


registry.register(registry.Experiment(
    name="st_multimodal", paper="WACV'19 §3.5, §4.2, Table 4", config_class=st_configs.MultimodalConfig,
    presets=st_configs.MULTIMODAL_PRESETS, docs="docs/st_multimodal.md",
    modes={"train": registry.Mode(lambda config, workdir, options: run_multimodal(config, workdir), trains=True)}))
