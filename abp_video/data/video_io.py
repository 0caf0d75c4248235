"""Reading clips (video files, frame folders) into float arrays, with errors that name the path and the fix."""

import os

import av
import numpy as np
from PIL import Image

VIDEO_EXTENSIONS = (".avi", ".mp4", ".mov", ".mkv", ".webm", ".mpg", ".mpeg", ".m4v", ".gif")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".ppm")


def is_video_file(path):
    return os.path.isfile(path) and path.lower().endswith(VIDEO_EXTENSIONS)


def resize_frame(frame, image_size):
    """Resizes one uint8 [height, width, 3] frame to a square, bilinear (the authors used bilinear PIL)."""
    if frame.shape[0] == image_size and frame.shape[1] == image_size:
        return frame
    return np.asarray(Image.fromarray(frame).resize((image_size, image_size), Image.BILINEAR))


def normalize_frames(frames):
    """Scales each frame to [-1, 1] on its own by min-max, as the authors' data loader did.

    Args:
      frames: uint8 or float array [time, height, width, 3].

    Returns:
      float32 array of the same shape in [-1, 1]; a constant frame maps to 0.
    """
    frames = frames.astype(np.float32)
    low = frames.min(axis=(1, 2, 3), keepdims=True)
    high = frames.max(axis=(1, 2, 3), keepdims=True)
    span = np.maximum(high - low, 1e-8)
    return np.where(high > low, (frames - low) / span * 2.0 - 1.0, 0.0).astype(np.float32)


def to_uint8(frames):
    """Maps [-1, 1] floats to uint8 pixels."""
    return np.clip(np.round((np.asarray(frames) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def read_video(path, num_frames=None, image_size=None):
    """Decodes the first `num_frames` frames of a video file with PyAV.

    Args:
      path: a video file any codec of PyAV's bundled FFmpeg decodes (avi/mp4/...).
      num_frames: how many frames to keep from the start; None keeps all.
      image_size: side of the square frames to resize to; None keeps the size.

    Returns:
      uint8 array [time, height, width, 3].

    Raises:
      FileNotFoundError: the path does not exist.
      ValueError: the file cannot be decoded, has no frames, or has fewer than `num_frames`.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"video not found: {path} (check the path given to --data)")
    frames = []
    try:
        with av.open(path) as container:
            if not container.streams.video:
                raise ValueError(f"cannot decode video {path}: it has no video stream; give a video file "
                                 f"(avi/mp4) or a folder of frame images")
            for frame in container.decode(video=0):
                image = frame.to_ndarray(format="rgb24")
                frames.append(resize_frame(image, image_size) if image_size else image)
                if num_frames is not None and len(frames) >= num_frames:
                    break
    except (av.error.FFmpegError, UnicodeDecodeError, IndexError) as error:
        if not frames:
            raise ValueError(f"cannot decode video {path} ({error}); give a video file FFmpeg can decode "
                             f"(avi, mp4, ...) or a folder of frame images") from None
        # A truncated file: keep what decoded, and let the frame count check below decide.
    if not frames:
        raise ValueError(f"video {path} decoded to zero frames; it is empty or not a video: give a video file "
                         f"with frames, or a folder of frame images")
    if num_frames is not None and len(frames) < num_frames:
        raise ValueError(
            f"video {path} has {len(frames)} frames but {num_frames} were asked for; pass --num_frames "
            f"{len(frames)} or less (a multiple of --chunk_length), or a longer clip (or a complete copy, if the file "
            f"was cut short)")
    return np.stack(frames)


def read_frame_folder(path, num_frames=None, image_size=None):
    """Reads a folder of frame images (sorted by name) as a clip; same contract as `read_video`."""
    names = sorted(name for name in os.listdir(path) if name.lower().endswith(IMAGE_EXTENSIONS))
    if not names:
        raise ValueError(f"folder {path} holds no frame images ({', '.join(IMAGE_EXTENSIONS)}) and no videos")
    if num_frames is not None and len(names) < num_frames:
        raise ValueError(
            f"frame folder {path} has {len(names)} frames but {num_frames} were asked for; "
            f"pass --num_frames {len(names)} or less")
    frames = []
    for name in names[:num_frames]:
        file_path = os.path.join(path, name)
        try:
            with Image.open(file_path) as image:
                frame = np.asarray(image.convert("RGB"))
        except OSError as error:
            raise ValueError(f"cannot read frame image {file_path}: {error}") from None
        frames.append(resize_frame(frame, image_size) if image_size else frame)
    shapes = {frame.shape for frame in frames}
    if len(shapes) > 1:
        raise ValueError(f"frames in {path} have different sizes {sorted(shapes)}; give --image_size to resize them")
    return np.stack(frames)


def read_image(path, image_size=None):
    """Reads one image file as uint8 [height, width, 3]."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"image not found: {path}; check the path, or give an image file "
                                f"({', '.join(IMAGE_EXTENSIONS)})")
    if not path.lower().endswith(IMAGE_EXTENSIONS):
        raise ValueError(f"{path} is not a supported image file; give one of {', '.join(IMAGE_EXTENSIONS)} "
                         f"(for a video, take one of its frames)")
    try:
        with Image.open(path) as image:
            frame = np.asarray(image.convert("RGB"))
    except OSError as error:
        raise ValueError(f"cannot read image {path} ({error}); give an image file PIL can open") from None
    return resize_frame(frame, image_size) if image_size else frame


def probe_video(path):
    """(frame count or None when the container does not say, width, height) of a video, without decoding it."""
    with av.open(path) as container:
        if not container.streams.video:
            raise ValueError(f"cannot decode video {path}: it has no video stream")
        stream = container.streams.video[0]
        return (stream.frames or None), stream.codec_context.width, stream.codec_context.height
