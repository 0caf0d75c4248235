"""Writing clips for people to look at: GIF, MP4, side-by-side panels and frame strips like the papers' figures."""

import os

import av
import numpy as np
from PIL import Image, ImageDraw

from abp_video.data.video_io import to_uint8

# Occluded pixels are shown black in the written clips ([-1, 1] scale).
HIDDEN = -1.0


def show_occluded(original, visible):
    """The clip as a model sees it: visible pixels kept, occluded ones black."""
    return np.where(np.asarray(visible) > 0, original, HIDDEN)


def _as_uint8(frames):
    frames = np.asarray(frames)
    return frames if frames.dtype == np.uint8 else to_uint8(frames)


def side_by_side(clips, gap=2):
    """Places clips [time, height, width, 3] next to each other, looping shorter ones to the longest.

    Args:
      clips: list of arrays (uint8 or [-1, 1] floats) with equal height.
      gap: white pixels between panels.

    Returns:
      uint8 array [time, height, total_width, 3].
    """
    clips = [_as_uint8(clip) for clip in clips]
    length = max(len(clip) for clip in clips)
    height = clips[0].shape[1]
    panels = []
    for index, clip in enumerate(clips):
        if clip.shape[1] != height:
            raise ValueError(f"clips to place side by side need one height; got {clip.shape[1]} and {height}")
        looped = clip[np.arange(length) % len(clip)]
        panels.append(looped)
        if index + 1 < len(clips) and gap:
            panels.append(np.full((length, height, gap, 3), 255, np.uint8))
    return np.concatenate(panels, axis=2)


def grid(rows, gap=2):
    """Rows of clips placed side by side (`side_by_side`), stacked top to bottom: uint8 [time, H, W, 3].

    Rows of different widths are padded with white on the right; shorter clips loop to the longest.
    """
    rows = [side_by_side(row, gap) for row in rows]
    length = max(len(row) for row in rows)
    width = max(row.shape[2] for row in rows)
    stacked = []
    for index, row in enumerate(rows):
        row = row[np.arange(length) % len(row)]
        stacked.append(np.pad(row, ((0, 0), (0, 0), (0, width - row.shape[2]), (0, 0)), constant_values=255))
        if index + 1 < len(rows) and gap:
            stacked.append(np.full((length, gap, width, 3), 255, np.uint8))
    return np.concatenate(stacked, axis=1)


def write_gif(path, frames, fps=12):
    """Writes a looping GIF. `frames` is uint8 or [-1, 1] floats, [time, height, width, 3]."""
    frames = _as_uint8(frames)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    images = [Image.fromarray(frame) for frame in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
    return path


class Mp4Writer:
    """Streams frames into an H.264 MP4 (PyAV), chunk by chunk, so memory does not grow with length."""

    def __init__(self, path, height, width, fps=12):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._container = av.open(path, mode="w")
        self._stream = self._container.add_stream("libx264", rate=fps)
        # H.264 with yuv420p needs even sides.
        self._stream.width, self._stream.height = width + width % 2, height + height % 2
        self._stream.pix_fmt = "yuv420p"
        self._stream.options = {"crf": "18"}

    def write(self, frames):
        for frame in _as_uint8(frames):
            if frame.shape[0] % 2 or frame.shape[1] % 2:
                frame = np.pad(frame, ((0, frame.shape[0] % 2), (0, frame.shape[1] % 2), (0, 0)), mode="edge")
            for packet in self._stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                self._container.mux(packet)

    def close(self):
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def write_mp4(path, frames, fps=12):
    """Writes a whole clip as MP4."""
    frames = _as_uint8(frames)
    with Mp4Writer(path, frames.shape[1], frames.shape[2], fps) as writer:
        writer.write(frames)
    return path


def frame_strip(clips, every=1, max_frames=10, gap=2):
    """A Figure-1 style image: one row per clip, every `every`-th frame, at most `max_frames` columns.

    Returns:
      uint8 array [rows * (height + gap), columns * (width + gap), 3].
    """
    clips = [_as_uint8(clip) for clip in clips]
    height, width = clips[0].shape[1:3]
    columns = min(max_frames, max(len(clip[::every]) for clip in clips))
    canvas = np.full((len(clips) * (height + gap) - gap, columns * (width + gap) - gap, 3), 255, np.uint8)
    for row, clip in enumerate(clips):
        for column, frame in enumerate(clip[::every][:columns]):
            top, left = row * (height + gap), column * (width + gap)
            canvas[top:top + height, left:left + width] = frame
    return canvas


def write_png(path, image):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    Image.fromarray(_as_uint8(image)).save(path)
    return path


def waveform_plot(rows, colours, height=80, width=600, gap=4):
    """Waveforms drawn over each other, one panel per row (e.g. real audio against audio generated from video).

    Args:
      rows: list of lists of 1D signals in [-1, 1]; the signals of a row share one panel.
      colours: one RGB tuple per signal of a row.

    Returns:
      uint8 array [rows * (height + gap) - gap, width, 3], white background, a grey zero line per panel.
    """
    image = Image.new("RGB", (width, len(rows) * (height + gap) - gap), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for index, signals in enumerate(rows):
        top = index * (height + gap)
        middle = top + height / 2
        draw.line([(0, middle), (width - 1, middle)], fill=(200, 200, 200))
        if index:
            draw.line([(0, top - gap / 2), (width - 1, top - gap / 2)], fill=(120, 120, 120))
        for signal, colour in zip(signals, colours):
            signal = np.clip(np.asarray(signal, np.float64), -1.0, 1.0)
            # One vertical bar per pixel column from the column's minimum to its maximum (an envelope view).
            columns = np.array_split(signal, width)
            for column, values in enumerate(columns):
                if len(values):
                    low, high = middle - values.max() * height / 2, middle - values.min() * height / 2
                    draw.line([(column, low), (column, high)], fill=colour)
    return np.asarray(image)


CURVE_COLOURS = ((31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14), (23, 190, 207),
                 (140, 86, 75), (127, 127, 127))


def curve_plot(series, title, x_label, y_label, log_y=True, width=720, height=420):
    """Learning curves as an RGB uint8 image: `series` is {label: (x values, y values)}, one coloured line each.

    Axes with the end values of each range written at the ticks (log10 scale for y when `log_y`), the title on top,
    a legend on the right. PIL only, so that no plotting library is needed.
    """
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    left, right, top, bottom = 70, width - 170, 30, height - 45
    xs = [float(x) for values, _ in series.values() for x in values]
    ys = [float(y) for _, values in series.values() for y in values if not log_y or y > 0]
    if not xs or not ys:
        raise ValueError(f"no points to plot for {title!r}")
    transform = np.log10 if log_y else (lambda value: value)
    x_low, x_high = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y_low, y_high = float(transform(min(ys))), float(transform(max(ys)))
    y_high = y_high if y_high > y_low else y_low + 1

    def point(x, y):
        return (left + (float(x) - x_low) / (x_high - x_low) * (right - left),
                bottom - (float(transform(y)) - y_low) / (y_high - y_low) * (bottom - top))

    draw.rectangle([left, top, right, bottom], outline="black")
    for fraction in np.linspace(0, 1, 5):
        y_value = y_low + fraction * (y_high - y_low)
        y = bottom - fraction * (bottom - top)
        draw.line([left - 4, y, left, y], fill="black")
        draw.text((4, y - 6), f"{10 ** y_value if log_y else y_value:.3g}", fill="black")
        x = left + fraction * (right - left)
        draw.line([x, bottom, x, bottom + 4], fill="black")
        draw.text((x - 12, bottom + 8), f"{x_low + fraction * (x_high - x_low):.0f}", fill="black")
    draw.text((left, 6), title, fill="black")
    draw.text(((left + right) // 2 - 30, bottom + 26), x_label, fill="black")
    draw.text((left + 6, top + 4), y_label + (" (log scale)" if log_y else ""), fill="black")
    for index, (label, (x_values, y_values)) in enumerate(series.items()):
        colour = CURVE_COLOURS[index % len(CURVE_COLOURS)]
        points = [point(x, y) for x, y in zip(x_values, y_values) if not log_y or y > 0]
        if len(points) > 1:
            draw.line(points, fill=colour, width=2)
        draw.line([right + 10, top + 10 + 18 * index, right + 30, top + 10 + 18 * index], fill=colour, width=3)
        draw.text((right + 35, top + 4 + 18 * index), label, fill="black")
    return np.asarray(image)
