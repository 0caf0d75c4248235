"""Occlusion masks for recovery and inpainting: loaders (.mat, .npy, PNG folder, mask video), generators, fitting.

Convention: every function returns a float32 `visible` array [frames, height, width, 3], 1 where the pixel is seen
and 0 where it is occluded. Every mask *file* marks the other way round, like the authors' `.mat` files: nonzero
(or white, in images and videos) = occluded / to remove.
"""

import os

import numpy as np
from PIL import Image

from abp_video.data.video_io import IMAGE_EXTENSIONS, is_video_file, read_video

MASK_TYPES = ("region", "missing_frames", "salt_pepper", "block", "m50", "p20", "b35", "b25", "middle_frames",
              "frame_blocks")

# AAAI'19 §4.3: one 60x60 occluded square per frame on 150x150 frames; scaled with the frame side.
REGION_SIDE_AT_150 = 60


def region_mask(num_frames, image_size, rng):
    """One occluded square per frame at a random place (§4.3: 60x60 on 150x150, scaled with the frame)."""
    side = max(1, int(round(REGION_SIDE_AT_150 * image_size / 150)))
    visible = np.ones((num_frames, image_size, image_size, 3), np.float32)
    for frame in range(num_frames):
        top, left = rng.integers(0, image_size - side + 1, size=2)
        visible[frame, top:top + side, left:left + side] = 0.0
    return visible


def missing_frames_mask(num_frames, image_size, rng, fraction=0.5):
    """Whole frames occluded: `fraction` of the frames (§4.3: 50%), chosen at random."""
    visible = np.ones((num_frames, image_size, image_size, 3), np.float32)
    visible[rng.choice(num_frames, int(round(fraction * num_frames)), replace=False)] = 0.0
    return visible


def salt_pepper_mask(num_frames, image_size, rng, fraction=0.5):
    """Single pixels occluded independently with probability `fraction`, all colour channels together."""
    occluded = rng.random((num_frames, image_size, image_size, 1)) < fraction
    return np.repeat(~occluded, 3, axis=-1).astype(np.float32)


def block_mask(num_frames, image_size, rng, side_fraction=0.4, duration_fraction=0.5):
    """A 3D block: one square of side `side_fraction`·size at one random place, for `duration_fraction` of the
    frames in a row starting at a random frame (the same pixels missing in consecutive frames)."""
    side = max(1, int(round(side_fraction * image_size)))
    duration = max(1, int(round(duration_fraction * num_frames)))
    top, left = rng.integers(0, image_size - side + 1, size=2)
    start = rng.integers(0, num_frames - duration + 1)
    visible = np.ones((num_frames, image_size, image_size, 3), np.float32)
    visible[start:start + duration, top:top + side, left:left + side] = 0.0
    return visible


# WACV'19 §4.2 masks, defined on 64x64 frames and 32-frame segments and scaled with the frame side and length.
PAPER_SIDE, PAPER_SEGMENT = 64, 32


def patch_mask(num_frames, image_size, rng, side_at_64=20):
    """P20: one 20x20 patch per frame at a random place (on 64x64 frames; scaled with the frame side)."""
    side = max(1, int(round(side_at_64 * image_size / PAPER_SIDE)))
    visible = np.ones((num_frames, image_size, image_size, 3), np.float32)
    for frame in range(num_frames):
        top, left = rng.integers(0, image_size - side + 1, size=2)
        visible[frame, top:top + side, left:left + side] = 0.0
    return visible


def paper_block_mask(num_frames, image_size, rng, side_at_64=35, duration_at_32=20):
    """B35 (35x35x20, test time) / B25 (25x25x15, training time): one spatio-temporal block at a random place,
    defined on 64x64x32 segments and scaled with the frame side and the segment length."""
    return block_mask(num_frames, image_size, rng, side_fraction=side_at_64 / PAPER_SIDE,
                      duration_fraction=duration_at_32 / PAPER_SEGMENT)


def middle_frames_mask(num_frames, image_size, rng, count=8):
    """Table 1: `count` consecutive frames occluded in the middle of the clip (8 in the paper)."""
    count = min(count, num_frames - 1)
    start = (num_frames - count) // 2
    visible = np.ones((num_frames, image_size, image_size, 3), np.float32)
    visible[start:start + count] = 0.0
    return visible


def frame_blocks_mask(num_frames, image_size, rng, num_blocks=3, length=3):
    """Table 1: `num_blocks` blocks of `length` consecutive frames at random, non-overlapping (not touching) places."""
    if num_blocks * (length + 1) - 1 > num_frames:
        raise ValueError(f"{num_blocks} blocks of {length} frames do not fit in {num_frames} frames")
    # Choose gaps: num_blocks blocks and num_blocks - 1 separating frames, the free frames spread at random.
    free = num_frames - num_blocks * length - (num_blocks - 1)
    cuts = np.sort(rng.integers(0, free + 1, size=num_blocks))
    visible = np.ones((num_frames, image_size, image_size, 3), np.float32)
    for index, cut in enumerate(cuts):
        start = int(cut) + index * (length + 1)
        visible[start:start + length] = 0.0
    return visible


GENERATORS = {"region": region_mask, "missing_frames": missing_frames_mask, "salt_pepper": salt_pepper_mask,
              "block": block_mask,
              # WACV'19 §4.2: M0.5 (half of the pixels of every frame), P20, B35, B25; Table 1's frame masks.
              "m50": salt_pepper_mask, "p20": patch_mask, "b35": paper_block_mask,
              "b25": lambda frames, size, rng: paper_block_mask(frames, size, rng, 25, 15),
              "middle_frames": middle_frames_mask, "frame_blocks": frame_blocks_mask}


def generate_mask(mask_type, num_frames, image_size, seed=0):
    """A generated `visible` mask of one of MASK_TYPES, deterministic by seed."""
    if mask_type not in GENERATORS:
        raise ValueError(f"unknown --mask_type {mask_type!r}; choose one of {MASK_TYPES}")
    return GENERATORS[mask_type](num_frames, image_size, np.random.default_rng(seed))


# ---- files -------------------------------------------------------------------------------------------------------

def _occluded_from_images(frames):
    """uint8 [frames, height, width, 3] images -> bool occlusion [frames, height, width, 1] (white = occluded)."""
    return (np.asarray(frames, np.float32).mean(axis=-1, keepdims=True) > 127.5)


def read_occlusion(path):
    """Reads a mask file as stored: bool [frames, height, width, channels] with True = occluded.

    Formats: the authors' `.mat` (key `masks`, [height, width, frames(, 3)], 1 = occluded); `.npy`
    ([frames, height, width(, 1 or 3)], nonzero = occluded); a folder of frame images and a video file (white =
    occluded / to remove).
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"--mask {path}: no such file or folder")
    lower = path.lower()
    if lower.endswith(".mat"):
        import scipy.io
        try:
            contents = scipy.io.loadmat(path)
        except (ValueError, OSError, NotImplementedError) as error:
            raise ValueError(f"cannot read mask {path}: {error}") from None
        if "masks" not in contents:
            keys = sorted(key for key in contents if not key.startswith("__"))
            raise ValueError(f"mask {path} has no variable `masks` (it has {keys}); the authors' files store "
                             f"[height, width, frames, 3] under `masks`")
        occlusion = np.asarray(contents["masks"])
        if occlusion.ndim not in (3, 4):
            raise ValueError(f"mask {path}: `masks` has shape {occlusion.shape}, expected [height, width, frames(, 3)]")
        occlusion = np.moveaxis(occlusion, 2, 0)  # [height, width, frames, c] -> [frames, height, width, c].
    elif lower.endswith(".npy"):
        try:
            occlusion = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as error:
            raise ValueError(f"cannot read mask {path} ({error}); save the mask with numpy.save as a uint8 or "
                             f"bool array [frames, height, width(, channels)], 1 = occluded") from None
        if occlusion.ndim not in (3, 4):
            raise ValueError(f"mask {path} has shape {occlusion.shape}, expected [frames, height, width(, channels)]")
    elif os.path.isdir(path):
        names = sorted(name for name in os.listdir(path) if name.lower().endswith(IMAGE_EXTENSIONS))
        if not names:
            raise ValueError(f"mask folder {path} holds no images ({', '.join(IMAGE_EXTENSIONS)})")
        frames = []
        for name in names:
            with Image.open(os.path.join(path, name)) as image:
                frames.append(np.asarray(image.convert("RGB")))
        if len({frame.shape for frame in frames}) > 1:
            raise ValueError(f"mask images in {path} have different sizes {sorted({f.shape for f in frames})}")
        occlusion = _occluded_from_images(np.stack(frames))
    elif is_video_file(path):
        occlusion = _occluded_from_images(read_video(path))
    else:
        raise ValueError(f"--mask {path}: not a mask file; give a .mat (authors' format), .npy, a folder of mask "
                         f"images or a mask video (white = occluded)")
    _check_binary(occlusion, path)
    if occlusion.ndim == 3:
        occlusion = occlusion[..., None]
    return occlusion != 0


def _check_binary(occlusion, path):
    """A stored mask must be numbers (bool, integers, or floats that are exactly 0 or 1)."""
    if occlusion.dtype.kind not in "biuf":
        raise ValueError(f"mask {path} has dtype {occlusion.dtype}, not numbers; save it as a uint8 or bool array "
                         f"with 1 = occluded")
    if occlusion.dtype.kind == "f":
        other = occlusion[(occlusion != 0) & (occlusion != 1)]
        if other.size:
            raise ValueError(f"mask {path} (dtype {occlusion.dtype}) holds values other than 0 and 1, e.g. "
                             f"{other.flat[0]}; save a binary mask, 0 = visible and 1 = occluded, e.g. as uint8")
    if occlusion.size == 0:
        raise ValueError(f"mask {path} is empty (shape {occlusion.shape}); it needs at least as many frames as "
                         f"the clip")


def resize_nearest(occlusion, image_size):
    """Nearest-neighbour resize of [frames, height, width, channels] to a square side `image_size`."""
    height, width = occlusion.shape[1:3]
    if (height, width) == (image_size, image_size):
        return occlusion
    # Pixel centres: output pixel i samples input pixel floor((i + 0.5) · in / out).
    rows = np.minimum(((np.arange(image_size) + 0.5) * height / image_size).astype(np.int64), height - 1)
    columns = np.minimum(((np.arange(image_size) + 0.5) * width / image_size).astype(np.int64), width - 1)
    return occlusion[:, rows][:, :, columns]


def fit_mask(occlusion, clip_shape, source="mask"):
    """Turns a stored occlusion mask into a `visible` mask for a clip of `clip_shape` [frames, size, size, 3].

    Spatial sizes are matched by nearest-neighbour resizing; a mask with more frames than the clip is cut to the
    first frames (as the authors did); fewer frames, or channels other than 1 or 3, is an error naming both shapes.
    """
    num_frames, height, width, channels = clip_shape
    if occlusion.ndim != 4 or occlusion.shape[-1] not in (1, 3) or occlusion.shape[0] < num_frames:
        raise ValueError(f"{source} has shape {tuple(occlusion.shape)} [frames, height, width, channels], which does "
                         f"not fit the clip of shape {tuple(clip_shape)}: it needs at least {num_frames} frames and "
                         f"1 or 3 channels")
    if height != width:
        raise ValueError(f"clip shape {tuple(clip_shape)} is not square")
    occlusion = resize_nearest(occlusion[:num_frames], height)
    visible = ~np.broadcast_to(occlusion, (num_frames, height, width, channels))
    return visible.astype(np.float32)


def load_mask(spec, clip_shape, mask_type="region", seed=0):
    """The `visible` mask [frames, size, size, 3] for a clip: read from `spec`, or generated when `spec` is empty.

    Args:
      spec: path of a mask file or folder (see `read_occlusion`), or "" to generate one of `mask_type`.
      clip_shape: (frames, size, size, 3) of the clip the mask is for.
      mask_type: one of MASK_TYPES, used when `spec` is empty.
      seed: seed of the generated mask.

    Returns:
      float32 [frames, size, size, 3], 1 = visible.
    """
    if not spec:
        return generate_mask(mask_type, clip_shape[0], clip_shape[1], seed)
    return fit_mask(read_occlusion(spec), clip_shape, source=f"mask {spec}")

