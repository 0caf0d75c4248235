"""Resolving a `--data` value (video file, frame folder, folder of videos, `synthetic:NAME`) into training clips."""

import dataclasses
import os

import numpy as np

from abp_video.data import synthetic
from abp_video.data.video_io import (IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, is_video_file, normalize_frames,
                                    probe_video, read_frame_folder, read_video)

SYNTHETIC_PREFIX = "synthetic:"


@dataclasses.dataclass
class Clip:
    """One training clip: `frames` float32 [time, height, width, 3] in [-1, 1]; `name` for file names."""
    name: str
    frames: np.ndarray
    source: str


def _clip_name(path):
    return os.path.splitext(os.path.basename(os.path.normpath(path)))[0]


def load_clips(spec, num_frames, image_size, seed=0):
    """Loads every clip `spec` names, resized to `image_size` and cut to the first `num_frames` frames.

    Args:
      spec: `synthetic:NAME` (a built-in texture, or `synthetic:actions`: several clips), a video file, a folder of frame images (one clip), or a
        folder of video files / frame folders (one clip each, like the authors' `--category` folders).
      num_frames: frames per clip.
      image_size: side of the square frames.
      seed: seed of the synthetic textures.

    Returns:
      list of `Clip`, at least one.

    Raises:
      FileNotFoundError / ValueError with the offending path and what to do.
    """
    if num_frames <= 0 or image_size <= 0:
        raise ValueError(f"num_frames and image_size must be positive, got {num_frames} and {image_size}")
    if spec.startswith(SYNTHETIC_PREFIX):
        name = spec[len(SYNTHETIC_PREFIX):]
        if name in synthetic.DATASETS:
            return [Clip(name=clip_name, frames=normalize_frames(frames), source=f"{spec}/{clip_name}")
                    for clip_name, frames in synthetic.DATASETS[name](num_frames, image_size, seed)]
        frames = synthetic.make_texture(name, num_frames, image_size, seed)
        return [Clip(name=f"synthetic_{name}", frames=normalize_frames(frames), source=spec)]
    if not os.path.exists(spec):
        raise FileNotFoundError(
            f"--data {spec}: no such file or folder. Give a video file, a folder of frames or videos, "
            f"or a built-in texture such as synthetic:fire")
    if os.path.isfile(spec):
        if not is_video_file(spec):
            raise ValueError(f"--data {spec} is not a video file ({', '.join(VIDEO_EXTENSIONS)}); "
                             f"give a video, or a folder of frame images")
        return [Clip(_clip_name(spec), normalize_frames(read_video(spec, num_frames, image_size)), spec)]
    entries = sorted(os.listdir(spec))
    if any(entry.lower().endswith(IMAGE_EXTENSIONS) for entry in entries):
        return [Clip(_clip_name(spec), normalize_frames(read_frame_folder(spec, num_frames, image_size)), spec)]
    clips = []
    for entry in entries:
        path = os.path.join(spec, entry)
        if is_video_file(path):
            clips.append(Clip(_clip_name(path), normalize_frames(read_video(path, num_frames, image_size)), path))
        elif os.path.isdir(path) and any(name.lower().endswith(IMAGE_EXTENSIONS) for name in os.listdir(path)):
            clips.append(Clip(entry, normalize_frames(read_frame_folder(path, num_frames, image_size)), path))
    if not clips:
        raise ValueError(f"--data {spec}: the folder holds no video files and no frame images")
    return clips


def describe(spec, num_frames, image_size, segments=None):
    """What a run will make of `--data spec`, read from the file's header only, e.g. `fire.avi: frames 0-59 of 250,
    352x288 -> 32x32`. `segments`: the spatial-temporal models' segments of `num_frames` frames (0 = every whole
    segment the clip holds). Never raises: a source it cannot read is described as given (loading says why)."""
    used = (f"frames 0-{num_frames - 1}" if segments is None else
            f"{'every' if not segments else f'up to {segments}'} {num_frames}-frame segment{'s' if segments != 1 else ''}")
    size = f"{image_size}x{image_size}"
    try:
        if spec.startswith(SYNTHETIC_PREFIX):
            return f"{spec} (built in, made at {size}): {used}"
        if os.path.isfile(spec):
            total, width, height = probe_video(spec)
            return f"{os.path.basename(spec)}: {used} of {total or '?'}, {width}x{height} -> {size}"
        entries = sorted(os.listdir(spec))
        images = [entry for entry in entries if entry.lower().endswith(IMAGE_EXTENSIONS)]
        if images:
            from PIL import Image
            with Image.open(os.path.join(spec, images[0])) as first:
                width, height = first.size
            return f"{os.path.basename(os.path.normpath(spec))}/ (frames): {used} of {len(images)}, " \
                   f"{width}x{height} -> {size}"
        videos = [entry for entry in entries if entry.lower().endswith(VIDEO_EXTENSIONS)]
        return f"{os.path.basename(os.path.normpath(spec))}/: {len(videos) or len(entries)} clips, {used} of each -> {size}"
    except (OSError, ValueError):
        return f"{spec}: {used} -> {size}"


def data_name(spec):
    """A short name for run directories: `fire` for .../fire/fire.avi, `synthetic_fire` for synthetic:fire."""
    if spec.startswith(SYNTHETIC_PREFIX):
        return "synthetic_" + spec[len(SYNTHETIC_PREFIX):]
    return _clip_name(spec)


def load_segments(spec, segment_length, image_size, max_segments=0, seed=0, synthetic_segments=8):
    """Cuts the clips `spec` names into consecutive segments of `segment_length` frames (WACV'19 §4.2).

    Args:
      spec: as for `load_clips`; a synthetic texture is generated long enough for `max_segments` segments
        (`synthetic_segments` when `max_segments` is 0).
      segment_length: frames per segment.
      image_size: side of the square frames.
      max_segments: at most this many segments per clip, from its start (0 = every whole segment).
      seed: seed of the synthetic textures.

    Returns:
      list of (Clip, float32 [segments, segment_length, size, size, 3] in [-1, 1]), one per clip.
    """
    if spec.startswith(SYNTHETIC_PREFIX):
        count = max_segments or synthetic_segments
        clip = load_clips(spec, count * segment_length, image_size, seed)[0]
        return [(clip, clip.frames.reshape(count, segment_length, *clip.frames.shape[1:]))]
    result = []
    for clip in load_clips(spec, segment_length, image_size, seed):  # Checks the path and finds the clips.
        if os.path.isfile(clip.source):
            frames = read_video(clip.source, None, image_size)
        else:
            frames = read_frame_folder(clip.source, None, image_size)
        count = len(frames) // segment_length
        if max_segments:
            count = min(count, max_segments)
        if count < 1:
            raise ValueError(f"--data {clip.source} has {len(frames)} frames, fewer than one segment of "
                             f"{segment_length}; choose a longer clip or a smaller --num_frames")
        frames = normalize_frames(frames[:count * segment_length])
        result.append((Clip(clip.name, frames, clip.source),
                       frames.reshape(count, segment_length, *frames.shape[1:])))
    return result
