"""The shared audio-video representation (WACV'19 §3.5, Table 4): data, audio generator, joint energy, CCA, runs."""

import dataclasses
import json
import os
import wave

import numpy as np
import pytest
import tensorflow as tf

import main as cli
from abp_video.baselines import cca
from abp_video import configs as abp_configs, runs
from abp_video.configs import with_settings
from abp_video.data import talking_mouth, writers
from st_generator import configs
from st_generator.experiments import multimodal as st_multimodal
from st_generator.models import AudioGenerator
from st_generator.multimodal import MultimodalTrainer

TINY = configs.MULTIMODAL_TINY


def _tiny_data(config=TINY, seed=0):
    video, corpus = config.video, config.corpus
    return talking_mouth.talking_mouths(video.num_frames, video.image_size, config.audio.num_audio_samples,
                                        corpus.num_speakers, corpus.num_phrases, corpus.num_repetitions, seed)


def test_talking_mouths_deterministic_by_seed_and_mouth_follows_the_audio_envelope():
    sizes = dict(num_frames=16, image_size=16, num_samples=4000, num_speakers=2, num_phrases=4, num_repetitions=2)
    first, again = talking_mouth.talking_mouths(**sizes, seed=3), talking_mouth.talking_mouths(**sizes, seed=3)
    other = talking_mouth.talking_mouths(**sizes, seed=4)
    assert np.array_equal(first.videos, again.videos) and np.array_equal(first.audio, again.audio)
    assert not np.allclose(first.videos, other.videos) and not np.allclose(first.audio, other.audio)
    assert first.videos.shape == (16, 16, 16, 16, 3) and first.audio.shape == (16, 4000)
    assert first.videos.min() >= -1 and first.videos.max() <= 1 and np.abs(first.audio).max() <= 1
    assert sorted(set(first.phrases.tolist())) == [0, 1, 2, 3] and first.phrase_names[0] == "excuse_me"
    # Mouth opening per frame (how far the frame is from the utterance's first, closed-mouth frame) against the
    # audio's loudness over the same frame: they rise and fall together, for each speaker (the pixel change of an
    # opening depends on the speaker's colours, so the speakers are not pooled).
    opening = np.mean(np.abs(first.videos - first.videos[:, :1]), axis=(2, 3, 4))
    loudness = np.sqrt(np.mean(np.square(first.audio.reshape(16, 16, -1)), axis=2))
    for speaker in (0, 1):
        mine = first.speakers == speaker
        assert np.corrcoef(opening[mine].ravel(), loudness[mine].ravel())[0, 1] > 0.8
        # Against the loudness of another utterance the relation is gone: the test can fail.
        assert np.corrcoef(opening[mine].ravel(), np.roll(loudness[mine], 5, axis=1).ravel())[0, 1] < 0.5


def test_shared_voices_are_told_by_the_mouth_and_per_speaker_voices_by_nothing_visible():
    sizes = dict(num_frames=16, image_size=8, num_samples=4000, num_speakers=4, num_phrases=2, num_repetitions=1)
    shared = talking_mouth.talking_mouths(**sizes, seed=5)
    before = talking_mouth.talking_mouths(**sizes, seed=5, voice="per_speaker")
    registers = [talking_mouth.register_of(width) for width in shared.mouth_widths[::2]]
    assert registers == [0, 1, 0, 1]  # Alternating with the speaker, told by the width.
    # Same phrase, same register: the same sound whoever says it (magnitude spectra correlate > 0.9); across
    # registers, or with per-speaker voices, not.
    def spectra(data):
        return np.corrcoef(np.abs(np.fft.rfft(data.audio[::2], axis=1)))
    shared_spectra, before_spectra = spectra(shared), spectra(before)
    assert shared_spectra[0, 2] > 0.9 and shared_spectra[1, 3] > 0.9
    assert shared_spectra[0, 1] < 0.5 and shared_spectra[2, 3] < 0.5
    assert before_spectra[0, 2] < 0.5 and before_spectra[1, 3] < 0.5
    # The faces are the same draws either way; only the voices (and the widths, brought into their register) differ.
    np.testing.assert_array_equal(shared.phrases, before.phrases)
    assert not np.allclose(shared.audio, before.audio)
    with pytest.raises(ValueError, match="--voice must be one of"):
        talking_mouth.talking_mouths(**sizes, seed=5, voice="alto")
    assert configs.VOICES == talking_mouth.VOICES  # The flag's choices (kept free of PyAV) are the data's.


@pytest.mark.parametrize("voice, oracle_beats_the_mean", [("shared", True), ("per_speaker", False)])
def test_nearest_utterance_oracle_predicts_new_speakers_audio_only_when_voices_are_shared(voice,
                                                                                         oracle_beats_the_mean):
    """The reason for `shared` voices: from 4 training speakers, the audio of 2 new ones is predictable from what
    their video shows (the oracle beats the training mean by a third) only when the voice is a function of it."""
    data = talking_mouth.talking_mouths(16, 8, 4000, 6, 10, 2, seed=1, voice=voice)
    order = np.random.default_rng(1).permutation(6)
    train, test = np.isin(data.speakers, order[:4]), np.isin(data.speakers, order[4:])
    from_video, _ = st_multimodal.nearest_utterance_oracle(data, train, test, 16)
    oracle = np.abs(from_video - data.audio[test]).mean()
    mean = np.abs(data.audio[train].mean(0) - data.audio[test]).mean()
    assert (oracle < 0.8 * mean) == oracle_beats_the_mean, (oracle, mean)


def test_a_multimodal_run_stored_before_voices_were_shared_reads_as_per_speaker():
    stored = abp_configs.to_dict(TINY)
    del stored["corpus"]["voice"]
    assert abp_configs.from_dict(configs.MultimodalConfig, stored).corpus.voice == "per_speaker"
    assert TINY.corpus.voice == "shared"


def _parameters(latent_channels, filters, kernel, top_length=0):
    """Hand count: kernel x inputs x filters + bias per layer (the first layer's kernel `top_length` when set), one
    β per normalised channel."""
    count, channels = 0, latent_channels
    for index, f in enumerate(filters):
        count += (top_length if index == 0 and top_length else kernel) * channels * f + f
        channels = f
    return count + sum(filters[:-1])


@pytest.mark.parametrize("config", [configs.MULTIMODAL_PAPER, configs.MULTIMODAL_QUICK, TINY],
                         ids=lambda config: config.preset)
def test_audio_generator_shapes_and_parameter_count(config):
    audio_config, channels = config.audio, config.video.latent_channels
    generator = AudioGenerator(audio_config.audio_filters, audio_config.audio_kernel, audio_config.audio_stride,
                               top_length=audio_config.audio_top_length)
    audio = generator(tf.random.normal([3, 1, 1, 1, channels]))
    assert audio.shape == (3, audio_config.num_audio_samples)
    assert np.all(np.abs(audio.numpy()) < 1.0)
    assert generator.count_params() == _parameters(channels, audio_config.audio_filters, audio_config.audio_kernel,
                                                   audio_config.audio_top_length)
    if config.preset == "paper":
        # §4.2's 48,000 samples: a first layer of kernel and stride 48, then {256, 128, 1}, kernel 20, stride 10.
        assert audio_config.num_audio_samples == 48000 and generator.count_params() == 5738753
        # Without the longer first layer, the paper's four stride-10 layers make 10^4.
        assert configs.AudioConfig().num_audio_samples == 10000


def _trainer():
    data = _tiny_data()
    return MultimodalTrainer(TINY, data.videos, data.audio), data


def test_joint_energy_gradient_is_the_sum_of_the_modalities():
    trainer, data = _trainer()
    latents = tf.Variable(tf.random.normal(trainer.latents.shape, seed=1))
    videos, audio = tf.constant(data.videos), tf.constant(data.audio)

    def gradient(**given):
        with tf.GradientTape() as tape:
            energy = tf.reduce_sum(trainer.energy(latents, **given))
        return tape.gradient(energy, latents).numpy()

    joint, from_video, from_audio = gradient(videos=videos, audio=audio), gradient(videos=videos), gradient(audio=audio)
    prior = latents.numpy()  # Counted once in the joint energy, once in each one-modality energy.
    np.testing.assert_allclose(joint, from_video + from_audio - prior, rtol=1e-4, atol=1e-5)
    # Both modalities pull on Z (otherwise the sum would hold trivially).
    assert np.abs(from_video - prior).max() > 1e-3 and np.abs(from_audio - prior).max() > 1e-3


def test_inference_from_one_modality_ignores_the_other():
    trainer, data = _trainer()
    other_audio = np.random.default_rng(0).uniform(-1, 1, data.audio.shape).astype(np.float32)
    other_videos = np.random.default_rng(1).uniform(-1, 1, data.videos.shape).astype(np.float32)
    from_video = trainer.infer_latents(data.videos, data.audio, "video", seed=5).numpy()
    np.testing.assert_array_equal(from_video, trainer.infer_latents(data.videos, other_audio, "video", seed=5))
    from_audio = trainer.infer_latents(data.videos, data.audio, "audio", seed=5).numpy()
    np.testing.assert_array_equal(from_audio, trainer.infer_latents(other_videos, data.audio, "audio", seed=5))
    # The joint inference does see both, and each one-modality inference sees its own: the test can fail.
    joint = trainer.infer_latents(data.videos, data.audio, "both", seed=5).numpy()
    assert not np.allclose(joint, trainer.infer_latents(data.videos, other_audio, "both", seed=5))
    assert not np.allclose(from_video, trainer.infer_latents(other_videos, data.audio, "video", seed=5))


def test_cca_recovers_a_planted_linear_relation():
    rng = np.random.default_rng(0)
    shared = rng.standard_normal((400, 3))
    x = shared @ rng.standard_normal((3, 20)) + 0.1 * rng.standard_normal((400, 20))
    y = shared @ rng.standard_normal((3, 15)) + 0.1 * rng.standard_normal((400, 15))
    train, test = slice(0, 300), slice(300, None)
    model = cca.CCA(components=5, regularization=0.0, pca_dims=19).fit(x[train], y[train])
    assert np.all(model.correlations[:3] > 0.99) and np.all(model.correlations[3:] < 0.5)
    folds = np.arange(300) % 3
    fitted, chosen = cca.select_and_fit(x[train], y[train], folds, "x_to_y")
    assert chosen["components"] >= 3
    # Prediction error near the noise (0.01 per value), far below the variance of y.
    assert np.mean(np.square(fitted.predict_y(x[test]) - y[test])) < 0.05 * np.mean(np.var(y, axis=0))
    fitted, _ = cca.select_and_fit(x[train], y[train], folds, "y_to_x")
    assert np.mean(np.square(fitted.predict_x(y[test]) - x[test])) < 0.05 * np.mean(np.var(x, axis=0))
    # Unrelated views: nothing to recover, and no better than the mean.
    unrelated = rng.standard_normal((400, 15))
    fitted, _ = cca.select_and_fit(x[train], unrelated[train], folds, "x_to_y")
    assert np.mean(np.square(fitted.predict_y(x[test]) - unrelated[test])) > 0.9


def test_tiny_run_writes_table_with_every_phrase_and_both_directions(tmp_path):
    path, result = st_multimodal.run_multimodal(TINY, str(tmp_path / "run"))
    with open(os.path.join(path, "table.json")) as handle:
        table = json.load(handle)
    rows = {row["phrase"]: row for row in table["rows"]}
    assert list(rows) == [name for name, _ in talking_mouth.PHRASES[:TINY.corpus.num_phrases]] + ["all"]
    for name, row in rows.items():
        for key in ("v2a_ours", "v2a_cca", "a2v_ours", "a2v_cca"):
            assert np.isfinite(row[key]) and row[key] >= 0
            assert result[f"{name}_{key}"] == pytest.approx(row[key])
        assert f"| {name} |" in table["markdown"]
    # New test speakers (§4.2): all utterances of one speaker the model never saw; Table 4's error is the mean
    # absolute difference, the mean squared kept beside it.
    corpus = TINY.corpus
    assert result["test_utterances"] == corpus.test_speakers * corpus.num_phrases * corpus.num_repetitions
    assert result["train_utterances"] == corpus.train_speakers * corpus.num_phrases * corpus.num_repetitions
    assert 0 < result["all_v2a_ours"] ** 2 <= result["all_v2a_ours_mse"]  # Jensen: (mean |e|)² <= mean e².
    # Beside ours and CCA, the training mean and the oracle (the synthetic set's hidden mouth parameters); the paper
    # has neither.
    assert "| paper: excuse_me | 0.0179 | 0.1779 | – | – | 0.1771 | 0.4269 | – | – |" in table["markdown"]
    for key in ("v2a_mean", "v2a_oracle", "a2v_mean", "a2v_oracle", "v2a_loudness_oracle"):
        assert np.isfinite(result[f"all_{key}"])
    assert "mean absolute" in table["title"]
    stored = runs.RunDirectory(path).read_metrics()
    assert stored.pop("machine")["cpus"] == os.cpu_count() and stored == pytest.approx(result)
    samples = os.listdir(os.path.join(path, "samples"))
    assert {"video_observed_from_audio_cca.gif", "audio_real_from_video_cca.png"} <= set(samples)


def _write_ouluvs2(root, speakers=3, phrases=2, repetitions=3, frames=12, size=16, rate=8000):
    """A small OuluVS2-style folder: s<speaker>_v1_u<31..> .mp4 clips, each with a .wav of the same name."""
    data = talking_mouth.talking_mouths(frames, size, frames * rate // 25, speakers, phrases, repetitions, seed=0)
    for video, audio, speaker, phrase, repetition in zip(data.videos, data.audio, data.speakers, data.phrases,
                                                         data.repetitions):
        folder = os.path.join(root, f"s{speaker + 1}")
        os.makedirs(folder, exist_ok=True)
        stem = os.path.join(folder, f"s{speaker + 1}_v1_u{31 + 3 * phrase + repetition}")
        writers.write_mp4(stem + ".mp4", video)
        with wave.open(stem + ".wav", "wb") as handle:
            handle.setnchannels(1)
            handle.setsampwidth(2)
            handle.setframerate(rate)
            handle.writeframes((audio * 32767).astype(np.int16).tobytes())
    writers.write_mp4(os.path.join(root, "s1", "s1_v2_u31.mp4"), data.videos[0])  # Another view: skipped.
    return data


def test_speaker_split_holds_out_whole_speakers_by_seed():
    data = _tiny_data(with_settings(TINY, dict(num_speakers=6)))
    corpus = with_settings(TINY, dict(num_speakers=6, train_speakers=3, test_speakers=2)).corpus
    train, test, folds = st_multimodal.split_utterances(data, corpus, seed=1)
    train_speakers, test_speakers = set(data.speakers[train]), set(data.speakers[test])
    assert len(train_speakers) == 3 and len(test_speakers) == 2 and not train_speakers & test_speakers
    assert list(folds) == list(data.speakers[train])  # CCA is cross-validated over held-out speakers.
    assert set(data.speakers[st_multimodal.split_utterances(data, corpus, seed=1)[1]]) == test_speakers
    assert any(set(data.speakers[st_multimodal.split_utterances(data, corpus, seed=seed)[1]]) != test_speakers
               for seed in range(2, 8))
    with pytest.raises(ValueError, match="6 speakers, but --train_speakers 5"):
        st_multimodal.split_utterances(data, with_settings(TINY, dict(num_speakers=9, train_speakers=5,
                                                                      test_speakers=3)).corpus, seed=1)
    # test_speakers 0: the last repetition of every speaker and phrase, seen speakers.
    data = _tiny_data(with_settings(TINY, dict(num_repetitions=3)))
    train, test, folds = st_multimodal.split_utterances(data, dataclasses.replace(corpus, test_speakers=0), seed=1)
    assert set(data.repetitions[test]) == {2} and set(folds) == {0, 1} and not (train & test).any()


def test_ouluvs_layout_loads_and_trains(tmp_path):
    root = str(tmp_path / "ouluvs2")
    written = _write_ouluvs2(root)
    # §4.2: frames and audio samples added from the start or the last ones deleted.
    circular = talking_mouth.load_ouluvs(root, 16, TINY.video.image_size, 1000)
    assert circular.videos.shape == (18, 16, 8, 8, 3) and circular.audio.shape == (18, 1000)
    np.testing.assert_array_equal(circular.videos[:, 12:], circular.videos[:, :4])  # 12 frames written: 4 added.
    # The audio: the written track's first 1,000 samples (peak-normalised), not a resampling of all 3,840.
    labels = list(zip(circular.speakers, circular.phrases, circular.repetitions))
    index = labels.index((written.speakers[0], written.phrases[0], written.repetitions[0]))
    start = written.audio[0, :1000]
    np.testing.assert_allclose(circular.audio[index], start / np.abs(start).max(), atol=1e-3)
    loaded = talking_mouth.load_ouluvs(root, TINY.video.num_frames, TINY.video.image_size,
                                       TINY.audio.num_audio_samples, time_fit="resample")
    assert loaded.videos.shape == (18, 4, 8, 8, 3) and loaded.audio.shape == (18, 100)
    assert sorted(zip(loaded.speakers, loaded.phrases, loaded.repetitions)) == sorted(
        zip(written.speakers, written.phrases, written.repetitions))
    assert loaded.phrase_names == ("excuse_me", "goodbye")
    # The audio read back is the written one, linearly interpolated over the same span onto 100 samples and
    # peak-normalised.
    labels = list(zip(loaded.speakers, loaded.phrases, loaded.repetitions))
    for utterance in (0, 7, 17):
        index = labels.index((written.speakers[utterance], written.phrases[utterance], written.repetitions[utterance]))
        length = written.audio.shape[1]
        expected = np.interp((np.arange(100) + 0.5) / 100, (np.arange(length) + 0.5) / length,
                             written.audio[utterance])
        np.testing.assert_allclose(loaded.audio[index], expected / np.abs(expected).max(), atol=2e-3)
    config = with_settings(TINY, dict(data=root))
    path, result = st_multimodal.run_multimodal(config, str(tmp_path / "run"))
    assert result["test_utterances"] == 6 and os.path.isfile(os.path.join(path, "table.json"))


@pytest.mark.parametrize("make,message", [
    (lambda root: None, "no such folder"),
    (lambda root: os.makedirs(os.path.join(root, "s1")), "found no OuluVS utterance videos"),
])
def test_bad_ouluvs_folder_is_one_line_error(tmp_path, capsys, make, message):
    root = str(tmp_path / "ouluvs")
    make(root)
    workdir = str(tmp_path / "run")
    with pytest.raises(SystemExit) as exit_info:
        cli.entry(["main.py", "--experiment", "st_multimodal", "--preset", "tiny", "--data", root,
                   "--workdir", workdir])
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0] and root in lines[0]
    assert not os.path.exists(workdir)
