"""Paired talking-mouth videos and audio (WACV'19 §4.2): a synthetic set, deterministic by seed, and an OuluVS loader."""

import dataclasses
import os
import re
import wave

import av
import numpy as np

from abp_video.data.video_io import VIDEO_EXTENSIONS, normalize_frames, read_video

SYNTHETIC_NAME = "synthetic:talking_mouth"
FRAME_RATE = 25.0  # OuluVS is filmed at 25 frames per second; the synthetic clips share its time base.

# OuluVS's ten phrases (Zhao, Barnard, Pietikäinen 2009), the rows of WACV'19 Table 4; each synthetic phrase is the
# sequence of vowels of its syllables, with relative durations (the stressed syllable a little longer).
PHRASES = (
    ("excuse_me", (("e", 1.0), ("u", 1.3), ("i", 1.0))),
    ("goodbye", (("u", 1.0), ("a", 1.4))),
    ("hello", (("e", 1.0), ("o", 1.4))),
    ("how_are_you", (("a", 1.2), ("a", 1.0), ("u", 1.2))),
    ("nice_to_meet_you", (("a", 1.2), ("u", 0.8), ("i", 1.2), ("u", 1.0))),
    ("see_you", (("i", 1.3), ("u", 1.0))),
    ("i_am_sorry", (("a", 1.0), ("a", 1.0), ("o", 1.3), ("i", 0.9))),
    ("thank_you", (("a", 1.4), ("u", 1.0))),
    ("have_a_good_time", (("a", 1.2), ("e", 0.7), ("u", 1.0), ("a", 1.3))),
    ("you_are_welcome", (("u", 1.0), ("a", 0.8), ("e", 1.3), ("o", 0.9))),
)

# Per vowel: how far the mouth opens (0-1), how wide it is relative to rest (rounded vowels are narrow), and three
# formant-like resonances in Hz (adult averages; a speaker scales them).
VOWELS = {
    "a": (1.00, 1.05, (730.0, 1090.0, 2440.0)),
    "e": (0.65, 1.15, (530.0, 1840.0, 2480.0)),
    "i": (0.35, 1.25, (270.0, 2290.0, 3010.0)),
    "o": (0.80, 0.75, (570.0, 840.0, 2410.0)),
    "u": (0.45, 0.65, (300.0, 870.0, 2240.0)),
}


@dataclasses.dataclass
class AudioVisualSet:
    """Utterances with their video and audio, aligned in time.

    videos: float32 [utterances, frames, height, width, 3] in [-1, 1]; audio: float32 [utterances, samples] in
    [-1, 1], spanning the same time as the frames; speakers / phrases / repetitions: int [utterances];
    phrase_names: one name per phrase index; sample_rate: audio samples per second; source: what was loaded;
    mouth: the synthetic set's per-frame mouth opening (0-1) and width factor, float [utterances, frames, 2], and
    mouth_widths: its speaker's mouth half-width at rest [utterances] (what the video shows, for oracles; None for
    recorded data).
    """
    videos: np.ndarray
    audio: np.ndarray
    speakers: np.ndarray
    phrases: np.ndarray
    repetitions: np.ndarray
    phrase_names: tuple
    sample_rate: float
    source: str
    mouth: np.ndarray = None
    mouth_widths: np.ndarray = None


# ---- the synthetic set -------------------------------------------------------------------------------------------

# How a speaker's voice relates to what the video shows. `shared` (the default since 2026-12-07): the sound is the
# same function of the visible mouth for every speaker. A speaker has one of two voice registers (`REGISTERS`: pitch
# and formant scale), told apart in the video by the mouth's rest width (the narrower half of `WIDTHS` speaks high,
# the wider half low); registers alternate with the speaker's index, so any two speakers in a row cover both; every
# speaker is equally loud (`SHARED_LOUDNESS`). A new speaker's audio is then determined by their video (up to 1%
# noise): what the video shows says when each syllable starts, which vowel it is, how loud, and which register.
# `per_speaker` (the set before): pitch (100-230 Hz), formant scale and loudness drawn per speaker, independent of
# anything visible, so no method can predict a new speaker's waveform.
VOICES = ("shared", "per_speaker")
WIDTHS = (0.22, 0.32)  # Range of the mouth's rest half-width, in frame units.
REGISTERS = ((210.0, 1.1), (110.0, 0.95))  # (pitch in Hz, formant scale): high (narrow mouths), low (wide mouths).
SHARED_LOUDNESS = 0.75


def register_of(rest_width):
    """The voice register (index into `REGISTERS`) a `shared` voice has for a mouth of this rest half-width."""
    return int(rest_width >= 0.5 * (WIDTHS[0] + WIDTHS[1]))


def _speaker(rng, index, voice="shared"):
    """Appearance and voice of speaker `index`, drawn from `rng` (the same draws for either `voice`)."""
    speaker = dict(
        skin=rng.uniform([0.55, 0.35, 0.25], [0.95, 0.75, 0.60]),
        lips=rng.uniform([0.45, 0.05, 0.10], [0.80, 0.30, 0.35]),
        cavity=rng.uniform([0.05, 0.0, 0.0], [0.20, 0.08, 0.08]),
        centre=(rng.uniform(0.42, 0.58), rng.uniform(0.48, 0.62)),  # (x, y) in frame units.
        width=rng.uniform(*WIDTHS),  # Half-width of the mouth at rest.
        opening=rng.uniform(0.14, 0.22),  # Half-height of the fully open mouth.
        lip=rng.uniform(0.035, 0.06),  # Lip thickness.
        pitch=rng.uniform(100.0, 230.0),  # Hz.
        formant_scale=rng.uniform(0.9, 1.15),
        loudness=rng.uniform(0.6, 0.85),
    )
    if voice == "shared":
        register = index % 2
        half = 0.5 * (WIDTHS[1] - WIDTHS[0])  # The register's half of the width range.
        speaker["width"] = WIDTHS[0] + half * (register + (speaker["width"] - WIDTHS[0]) / (WIDTHS[1] - WIDTHS[0]))
        pitch, formant_scale = REGISTERS[register]
        speaker.update(pitch=pitch, formant_scale=formant_scale, loudness=SHARED_LOUDNESS)
    elif voice != "per_speaker":
        raise ValueError(f"--voice must be one of {VOICES}, got {voice!r}")
    return speaker


def _syllable_frames(durations, num_frames, rng):
    """(onset, offset) frame of every syllable: the phrase fills the clip but for a margin, with whole-frame jitter.

    Timing varies between repetitions by whole frames only (an onset shift, and ±1 frame per syllable), so the
    video sees exactly when each syllable starts: the audio is then a function of what the video shows, plus noise.
    """
    margin = max(1, int(round(0.1 * num_frames)))
    usable = num_frames - 2 * margin
    shift = int(rng.integers(-1, 2)) if margin > 1 else 0
    edges = np.round(margin + shift + usable * np.cumsum([0.0, *durations]) / sum(durations)).astype(int)
    spans = []
    for index in range(len(durations)):
        onset = edges[index] + (int(rng.integers(-1, 2)) if index and usable >= 4 * len(durations) else 0)
        offset = max(onset + 1, edges[index + 1])
        spans.append((int(np.clip(onset, 0, num_frames - 1)), int(np.clip(offset, 1, num_frames))))
    return spans


def _utterance(speaker, vowels, spans, stress, num_frames, num_samples, rng):
    """One utterance: audio [num_samples] and per-frame (opening, width factor) [num_frames, 2]."""
    sample_rate = num_samples * FRAME_RATE / num_frames
    time = np.arange(num_samples) / sample_rate
    audio = np.zeros(num_samples)
    envelope = np.zeros(num_samples)
    openness = np.zeros(num_samples)
    width = np.ones(num_samples)
    nyquist = 0.45 * sample_rate
    pitch = min(speaker["pitch"], 0.2 * sample_rate)  # Tiny clips have low sample rates: keep the fundamental.
    for index, ((onset, offset), vowel) in enumerate(zip(spans, vowels)):
        start, stop = onset / FRAME_RATE, offset / FRAME_RATE
        inside = (time >= start) & (time < stop)
        local = time[inside] - start
        # A raised-cosine loudness bump per syllable; the first syllable is stressed; loudness jitters ±10%.
        bump = 0.5 * (1.0 - np.cos(2.0 * np.pi * local / (stop - start)))
        amplitude = speaker["loudness"] * (1.0 if index else stress) * rng.uniform(0.9, 1.1)
        open_factor, width_factor, formants = VOWELS[vowel]
        # Voiced source: harmonics of a pitch falling 10% over the syllable, phase restarting at voicing onset, each
        # weighted by the vowel's resonances (three Gaussian bumps, 90 Hz wide) over a 1/k glottal roll-off.
        frequency = pitch * (1.0 - 0.1 * local / (stop - start))
        phase = 2.0 * np.pi * np.cumsum(frequency) / sample_rate
        carrier, total = np.zeros_like(local), 0.0
        for harmonic in range(1, int(nyquist // pitch) + 1):
            centre = harmonic * pitch
            gain = (0.3 + sum(np.exp(-0.5 * ((centre - f * speaker["formant_scale"]) / 90.0) ** 2)
                              for f in formants)) / harmonic
            carrier += gain * np.sin(harmonic * phase)
            total += gain
        audio[inside] = amplitude * bump * carrier / max(total, 1e-8)
        envelope[inside] = amplitude * bump
        openness[inside] = open_factor
        width[inside] = 1.0 + (width_factor - 1.0) * bump
    audio += 0.01 * rng.standard_normal(num_samples)  # Breath and room noise.
    per_frame = np.arange(num_samples) * num_frames // num_samples
    frame_envelope = np.bincount(per_frame, envelope * openness, num_frames) / np.bincount(per_frame, None, num_frames)
    frame_width = np.bincount(per_frame, width, num_frames) / np.bincount(per_frame, None, num_frames)
    opening = frame_envelope / max(speaker["loudness"], 1e-8)
    return np.clip(audio, -1.0, 1.0), np.stack([opening, frame_width], axis=1)


def _soft_ellipse(x, y, centre, half_width, half_height, softness):
    """Coverage in [0, 1] of an ellipse, with edges `softness` wide (anti-aliased, so small frames stay smooth)."""
    radius = np.sqrt(((x - centre[0]) / half_width) ** 2 + ((y - centre[1]) / max(half_height, 1e-4)) ** 2)
    return 1.0 / (1.0 + np.exp(-(1.0 - radius) * min(half_width, max(half_height, softness)) / softness))


def _render_mouth(speaker, opening, width_factor, image_size):
    """One frame [size, size, 3] in [0, 1]: skin with soft shading, lips, and a dark cavity `opening` (0-1) open."""
    y, x = (np.mgrid[0:image_size, 0:image_size] + 0.5) / image_size
    softness = 0.6 / image_size
    frame = speaker["skin"] * (0.85 + 0.15 * (1.0 - y))[..., None]  # Light from above.
    half_width = speaker["width"] * width_factor
    cavity_height = 0.01 + speaker["opening"] * opening
    lips = _soft_ellipse(x, y, speaker["centre"], half_width + speaker["lip"], cavity_height + speaker["lip"],
                         softness)
    cavity = _soft_ellipse(x, y, speaker["centre"], half_width, cavity_height, softness)
    frame = frame * (1.0 - lips[..., None]) + speaker["lips"] * lips[..., None]
    return frame * (1.0 - cavity[..., None]) + speaker["cavity"] * cavity[..., None]


def talking_mouths(num_frames, image_size, num_samples, num_speakers, num_phrases, num_repetitions, seed=0,
                   voice="shared"):
    """The synthetic talking-mouth set: every speaker says every phrase `num_repetitions` times.

    A speaker has its own skin, lip and cavity colours, mouth size and place, pitch and formant scale (and with
    `voice="per_speaker"` loudness); a
    phrase is a fixed vowel sequence (`PHRASES`, named after OuluVS's ten). Each repetition jitters the timing by
    whole frames and the loudness by ±10%. The audio is a voiced signal (harmonics of the speaker's pitch shaped by
    the vowel's resonances, under a raised-cosine envelope per syllable); the mouth opens with that envelope times
    the vowel's openness and widens or rounds with the vowel. Video and audio cover the same time: `num_frames`
    frames at 25 fps and `num_samples` samples.

    Args:
      num_frames, image_size: video [frames, size, size, 3].
      num_samples: audio samples per utterance.
      num_speakers, num_phrases, num_repetitions: the set's size (at most 10 phrases).
      seed: everything is a function of it.
      voice: `shared` (one of two voice registers, told by the mouth's rest width, loudness alike: the sound is a
        function of the video, the same for every speaker) or `per_speaker` (drawn independently); see `VOICES`.

    Returns:
      `AudioVisualSet`, utterances ordered by speaker, phrase, repetition.
    """
    if not 1 <= num_phrases <= len(PHRASES):
        raise ValueError(f"--num_phrases must be between 1 and {len(PHRASES)} (OuluVS's phrases), got {num_phrases}")
    if min(num_frames, image_size, num_samples, num_speakers, num_repetitions) <= 0:
        raise ValueError("frames, image size, samples, speakers and repetitions must all be positive")
    rng = np.random.default_rng(seed)
    speakers = [_speaker(rng, index, voice) for index in range(num_speakers)]
    videos, audio, labels, tracks = [], [], [], []
    for speaker_index, speaker in enumerate(speakers):
        for phrase_index, (_, syllables) in enumerate(PHRASES[:num_phrases]):
            vowels, durations = zip(*syllables)
            for repetition in range(num_repetitions):
                spans = _syllable_frames(durations, num_frames, rng)
                sound, mouth = _utterance(speaker, vowels, spans, 1.15, num_frames, num_samples, rng)
                frames = np.stack([_render_mouth(speaker, opening, width, image_size) for opening, width in mouth])
                videos.append(frames * 2.0 - 1.0)
                audio.append(sound)
                tracks.append(mouth)
                labels.append((speaker_index, phrase_index, repetition))
    labels = np.asarray(labels)
    return AudioVisualSet(np.asarray(videos, np.float32), np.asarray(audio, np.float32), labels[:, 0], labels[:, 1],
                          labels[:, 2], tuple(name for name, _ in PHRASES[:num_phrases]),
                          num_samples * FRAME_RATE / num_frames, SYNTHETIC_NAME, np.asarray(tracks, np.float32),
                          np.asarray([speakers[index]["width"] for index in labels[:, 0]], np.float32))


# ---- OuluVS ------------------------------------------------------------------------------------------------------

# OuluVS2 names utterances `s<speaker>_v<view>_u<utterance>`: utterances 31-60 are the ten phrases, three times each
# (31-33 "Excuse me", ...). OuluVS (2009) folders hold one clip per phrase and repetition; we read those as
# `<phrase>_<repetition>` (1-based) inside one folder per speaker.
OULUVS2_NAME = re.compile(r"s(\d+)_v(\d+)_u(\d+)$", re.IGNORECASE)
FOLDER_NAME = re.compile(r"(\d+)[_-](\d+)$")
OULUVS2_PHRASES = range(31, 61)
LAYOUT_HELP = ("expected one folder per speaker holding <phrase>_<repetition>.<video> files (OuluVS), or OuluVS2's "
               "s<speaker>_v1_u<31-60>.<video> files, each with an audio track or a .wav of the same name beside it")


def _utterance_label(path, speaker_folder):
    """(speaker, phrase, repetition) from an OuluVS / OuluVS2 file name (0-based phrase), or None."""
    stem = os.path.splitext(os.path.basename(path))[0]
    match = OULUVS2_NAME.search(stem)
    if match:
        speaker, view, utterance = (int(group) for group in match.groups())
        if view != 1 or utterance not in OULUVS2_PHRASES:  # Frontal view, phrases only.
            return None
        return f"s{speaker}", (utterance - 31) // 3, (utterance - 31) % 3
    match = FOLDER_NAME.search(stem)
    if match:
        return speaker_folder, int(match.group(1)) - 1, int(match.group(2)) - 1
    return None


def read_audio(path):
    """Mono float audio in [-1, 1] and its sample rate, from a .wav (the `wave` module) or a media file's audio
    track (PyAV).

    Raises:
      ValueError: the file has no audio, or cannot be decoded.
    """
    if path.lower().endswith(".wav"):
        try:
            with wave.open(path, "rb") as handle:
                width, channels, rate = handle.getsampwidth(), handle.getnchannels(), handle.getframerate()
                raw = handle.readframes(handle.getnframes())
        except (wave.Error, EOFError) as error:
            raise ValueError(f"cannot read the audio file {path} ({error}); give a PCM .wav file") from None
        if width not in (1, 2, 4):
            raise ValueError(f"{path} has {8 * width}-bit samples; give 8, 16 or 32-bit PCM .wav files")
        dtype = {1: np.uint8, 2: np.int16, 4: np.int32}[width]
        samples = np.frombuffer(raw, dtype).astype(np.float64)
        samples = (samples - 128.0) / 128.0 if width == 1 else samples / float(np.iinfo(dtype).max)
        return samples.reshape(-1, channels).mean(axis=1), float(rate)
    chunks, rate = [], None
    try:
        with av.open(path) as container:
            if not container.streams.audio:
                raise ValueError(f"{path} has no audio track and no .wav of the same name beside it; "
                                 f"{LAYOUT_HELP}")
            for frame in container.decode(audio=0):
                rate = frame.sample_rate
                array = frame.to_ndarray().astype(np.float64)
                if frame.format.is_planar:
                    chunks.append(array.mean(axis=0))
                else:  # Interleaved channels.
                    chunks.append(array.reshape(-1, len(frame.layout.channels)).mean(axis=1))
    except av.error.FFmpegError as error:
        raise ValueError(f"cannot decode the audio of {path} ({error})") from None
    if not chunks:
        raise ValueError(f"{path}: its audio track holds no samples")
    samples = np.concatenate(chunks)
    if np.issubdtype(np.asarray(samples).dtype, np.integer) or np.abs(samples).max() > 1.0:
        samples = samples / max(np.abs(samples).max(), 1e-8)
    return samples, float(rate)


def _resample(values, length):
    """Linear interpolation of `values` (first axis) onto `length` evenly spaced points spanning the same time."""
    source = (np.arange(len(values)) + 0.5) / len(values)
    target = (np.arange(length) + 0.5) / length
    flat = values.reshape(len(values), -1)
    return np.stack([np.interp(target, source, column) for column in flat.T], axis=-1).reshape(length, *values.shape[1:])


def _circular(values, length):
    """The first `length` entries of `values`, repeated from the start where it is shorter (§4.2's "circularly add
    or delete")."""
    return values[np.arange(length) % len(values)]


def load_ouluvs(root, num_frames, image_size, num_samples, time_fit="circular"):
    """OuluVS / OuluVS2 phrase utterances under `root`, each brought to `num_frames` frames and `num_samples` samples.

    The generators need a fixed length. `time_fit` "circular" (WACV'19 §4.2): frames and audio samples are added
    from the start or the last ones deleted (the audio at the file's own rate: at OuluVS's 48 kHz, 48,000 samples
    are its first second). "resample": the frames are resampled to `num_frames` (nearest frame) and the audio over
    the same span to `num_samples` (linear interpolation), so that both cover the whole utterance. Frames are
    resized to `image_size` (bilinear) and scaled to [-1, 1]; audio is peak-normalised per utterance.

    Raises:
      FileNotFoundError: `root` does not exist.
      ValueError: no utterance matches the layout, or one cannot be decoded.
    """
    if not os.path.isdir(root):
        raise FileNotFoundError(f"--data {root}: no such folder. Give the OuluVS folder ({LAYOUT_HELP}), or use "
                                f"the built-in {SYNTHETIC_NAME}")
    utterances = []
    for folder, _, names in sorted(os.walk(root)):
        for name in sorted(names):
            path = os.path.join(folder, name)
            if not name.lower().endswith(VIDEO_EXTENSIONS):
                continue
            label = _utterance_label(path, os.path.basename(folder))
            if label is not None:
                utterances.append((label, path))
    if not utterances:
        raise ValueError(f"--data {root}: found no OuluVS utterance videos; {LAYOUT_HELP}")
    speaker_names = sorted({label[0] for label, _ in utterances})
    num_phrases = max(label[1] for label, _ in utterances) + 1
    videos, audio, labels = [], [], []
    for (speaker, phrase, repetition), path in utterances:
        frames = read_video(path, None, image_size)
        wav = os.path.splitext(path)[0] + ".wav"
        sound, _ = read_audio(wav if os.path.isfile(wav) else path)
        if time_fit == "circular":
            frames, sound = _circular(frames, num_frames), _circular(sound, num_samples)
        else:
            index = np.minimum((np.arange(num_frames) + 0.5) * len(frames) / num_frames, len(frames) - 1).astype(int)
            frames, sound = frames[index], _resample(sound, num_samples)
        videos.append(normalize_frames(frames))
        audio.append(sound / max(np.abs(sound).max(), 1e-8))
        labels.append((speaker_names.index(speaker), phrase, repetition))
    labels = np.asarray(labels)
    names = tuple(PHRASES[index][0] if index < len(PHRASES) else f"phrase_{index + 1}" for index in range(num_phrases))
    return AudioVisualSet(np.asarray(videos, np.float32), np.asarray(audio, np.float32), labels[:, 0], labels[:, 1],
                          labels[:, 2], names, float("nan"), root)


def load(spec, num_frames, image_size, num_samples, num_speakers, num_phrases, num_repetitions, seed,
         time_fit="circular", voice="shared"):
    """`synthetic:talking_mouth` (built, sized by the arguments, `voice` as `talking_mouths`) or an OuluVS folder
    (read; the counts are its own; `time_fit` as `load_ouluvs`)."""
    if spec == SYNTHETIC_NAME:
        return talking_mouths(num_frames, image_size, num_samples, num_speakers, num_phrases, num_repetitions, seed,
                              voice)
    if spec.startswith("synthetic:"):
        raise ValueError(f"--data {spec}: the audio-video experiment has one built-in set, {SYNTHETIC_NAME}; or give "
                         f"an OuluVS folder")
    return load_ouluvs(spec, num_frames, image_size, num_samples, time_fit)
