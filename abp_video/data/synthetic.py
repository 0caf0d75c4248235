"""Built-in synthetic dynamic textures and actions, deterministic by seed, so that the default run needs no download."""

import numpy as np
from PIL import Image

# Warm-up steps before recording, so that every clip starts in the texture's stationary regime.
_WARMUP_STEPS = 60


def water_ripples(num_frames, image_size, seed=0):
    """Water surface from a damped 2D wave equation hit by random raindrops, shaded by its slope.

    Returns:
      uint8 array [num_frames, image_size, image_size, 3].
    """
    rng = np.random.default_rng(seed)
    size = image_size
    height = np.zeros((size, size), np.float64)
    previous = np.zeros_like(height)
    yy, xx = np.mgrid[0:size, 0:size]
    frames = []
    for step in range(_WARMUP_STEPS + num_frames):
        # Two or three drops per step, Gaussian bumps at random places (periodic boundary: a texture).
        for _ in range(rng.integers(1, 4)):
            cy, cx = rng.integers(0, size, 2)
            radius = rng.uniform(1.0, 2.5) * size / 64.0
            dy = np.minimum(np.abs(yy - cy), size - np.abs(yy - cy))
            dx = np.minimum(np.abs(xx - cx), size - np.abs(xx - cx))
            height += rng.uniform(0.5, 1.5) * np.exp(-(dy ** 2 + dx ** 2) / (2 * radius ** 2))
        # Leapfrog step of u_tt = c^2 Laplacian(u) - damping * u_t, two sub-steps per frame.
        for _ in range(2):
            laplacian = (np.roll(height, 1, 0) + np.roll(height, -1, 0) + np.roll(height, 1, 1)
                         + np.roll(height, -1, 1) - 4 * height)
            new = 2 * height - previous + 0.45 * laplacian
            new -= 0.04 * (height - previous)
            previous, height = height, new * 0.995
        if step >= _WARMUP_STEPS:
            slope_y, slope_x = np.gradient(height)
            light = np.clip(0.55 + 1.2 * (slope_x + 0.6 * slope_y), 0.0, 1.0)
            depth = np.clip(0.5 + 0.25 * height, 0.0, 1.0)
            rgb = np.stack([0.10 + 0.55 * light ** 2, 0.30 + 0.45 * light * depth + 0.15 * light,
                            0.55 + 0.45 * light], axis=-1)
            frames.append(np.clip(rgb * 255.0, 0, 255).astype(np.uint8))
    return np.stack(frames)


def _fire_palette():
    """Black -> red -> orange -> yellow -> white, 256 entries."""
    stops = np.array([[0, 0, 0], [90, 10, 5], [200, 40, 5], [250, 120, 10], [255, 200, 50], [255, 250, 220]],
                     np.float64)
    positions = np.linspace(0.0, 1.0, len(stops))
    grid = np.linspace(0.0, 1.0, 256)
    return np.stack([np.interp(grid, positions, stops[:, c]) for c in range(3)], axis=-1).astype(np.uint8)


def fire(num_frames, image_size, seed=0):
    """Flames from an advected-noise cellular automaton: heat rises, spreads, drifts sideways and cools.

    The automaton runs at half the frame size and is upsampled (bilinear), so that flames are blobs a few
    pixels wide, as in real footage at this size, rather than one-pixel streaks.

    Returns:
      uint8 array [num_frames, image_size, image_size, 3].
    """
    rng = np.random.default_rng(seed)
    size = max(8, image_size // 2)
    heat = np.zeros((size + 2, size), np.float64)
    fuel = rng.random(size)
    shown = np.zeros((size, size), np.float64)
    palette = _fire_palette()
    frames = []
    for step in range(_WARMUP_STEPS + num_frames):
        # Fuel line: hot spots on the two bottom rows, correlated along the row and (AR(1)) in time.
        fuel = 0.8 * fuel + 0.2 * rng.random(size)
        smooth = np.convolve(np.concatenate([fuel[-3:], fuel, fuel[:3]]), np.ones(7) / 7.0, mode="valid")
        heat[-2:, :] = np.clip((smooth - 0.42) * 6.0, 0.0, 1.0)
        # Advection upwards with a random sideways wind per row, then diffusion and cooling.
        below = heat[1:, :]
        wind = rng.integers(-1, 2, size=size + 1)
        shifted = np.stack([np.roll(row, w) for row, w in zip(below, wind)])
        spread = (shifted + np.roll(shifted, 1, 1) + np.roll(shifted, -1, 1)) / 3.0
        cooling = rng.uniform(0.0, 0.06, size=spread.shape) * (32.0 / size)
        heat[:-1, :] = np.clip(spread - cooling, 0.0, 1.0)
        # What a camera sees integrates over its exposure: the shown field lags the simulated one a little.
        shown = 0.3 * shown + 0.7 * heat[:size]
        if step >= _WARMUP_STEPS:
            small = Image.fromarray(np.round(shown * 255).astype(np.uint8))
            large = np.asarray(small.resize((image_size, image_size), Image.BILINEAR))
            frames.append(palette[large.astype(np.int64)])
    return np.stack(frames)


TEXTURES = {"water": water_ripples, "fire": fire}


def make_texture(name, num_frames, image_size, seed=0):
    """Synthesises the built-in texture `name` (see TEXTURES) as uint8 [time, height, width, 3]."""
    if name not in TEXTURES:
        raise ValueError(f"unknown synthetic texture {name!r}; choose one of {sorted(TEXTURES)} or "
                         f"{sorted(DATASETS)} (e.g. --data synthetic:{sorted(TEXTURES)[0]})")
    return TEXTURES[name](num_frames, image_size, seed)


# ---- actions (AAAI'19 §4.2): many clips, one motion model ----------------------------------------------------------

ACTION_SHAPES = ("disc", "square", "diamond")
ACTION_MOTIONS = ("swing", "bounce", "circle")  # Horizontal pendulum, vertical hops, circular path.
_ACTION_COLOURS = {"red": (230, 60, 50), "yellow": (240, 210, 60), "green": (70, 200, 90), "blue": (70, 120, 240),
                   "white": (235, 235, 235)}
_ACTION_BACKGROUNDS = ((25, 25, 40), (45, 30, 20), (20, 45, 35))


def _sprite_mask(shape, x, y, radius, size):
    """Anti-aliased coverage [size, size] of a sprite centred at (x, y) (fractions of the frame)."""
    grid = (np.arange(size) + 0.5) / size
    dx, dy = grid[None, :] - x, grid[:, None] - y
    if shape == "disc":
        distance = np.sqrt(dx ** 2 + dy ** 2)
    elif shape == "square":
        distance = np.maximum(np.abs(dx), np.abs(dy))
    else:
        distance = (np.abs(dx) + np.abs(dy)) / np.sqrt(2)
    return np.clip((radius - distance) * size + 0.5, 0.0, 1.0)


def action_clip(shape, colour, background, motion, num_frames, image_size, period=12, phase=0.0):
    """One sprite of `shape` and `colour` doing the periodic `motion` on a plain `background`, uint8 [t, h, w, 3].

    The sprite also squashes and stretches with the motion, so that frames carry more than a translation.
    """
    frames = []
    for t in range(num_frames):
        angle = 2 * np.pi * t / period + phase
        if motion == "swing":
            x, y, stretch = 0.5 + 0.25 * np.sin(angle), 0.55 + 0.06 * np.cos(2 * angle), 1.0
        elif motion == "bounce":
            height = np.abs(np.sin(angle / 2))
            x, y, stretch = 0.5, 0.75 - 0.45 * height, 0.8 + 0.3 * height
        else:
            x, y, stretch = 0.5 + 0.22 * np.cos(angle), 0.5 + 0.22 * np.sin(angle), 1.0
        radius = 0.13
        # Squash and stretch: scale y by `stretch` and x inversely.
        grid_scale = np.array([1.0 / stretch, stretch])
        mask = _sprite_mask(shape, 0.5 + (x - 0.5), y, radius, image_size * 4)
        if stretch != 1.0:
            size = image_size * 4
            rows = np.clip(((np.arange(size) + 0.5) / size - y) / grid_scale[1] + y, 0, 1 - 1e-6)
            cols = np.clip(((np.arange(size) + 0.5) / size - x) / grid_scale[0] + x, 0, 1 - 1e-6)
            mask = mask[(rows * size).astype(int)][:, (cols * size).astype(int)]
        coverage = mask.reshape(image_size, 4, image_size, 4).mean(axis=(1, 3))[..., None]
        frame = (1 - coverage) * np.asarray(background, np.float64) + coverage * np.asarray(colour, np.float64)
        frames.append(frame)
    return np.clip(np.round(np.stack(frames)), 0, 255).astype(np.uint8)


def action_dataset(num_frames, image_size, seed=0, num_clips=12):
    """`num_clips` action clips: every (shape, colour, background) an appearance, every motion a periodic action.

    Deterministic by `seed` (which shapes, colours, backgrounds and motions, periods and phases). Clip i's
    appearance and motion are drawn independently, so every motion appears with several appearances.

    Returns:
      list of (name, uint8 [num_frames, image_size, image_size, 3]).
    """
    rng = np.random.default_rng(seed)
    colours = list(_ACTION_COLOURS)
    clips = []
    for index in range(num_clips):
        shape = ACTION_SHAPES[index % len(ACTION_SHAPES)]
        colour = colours[rng.integers(len(colours))]
        background = _ACTION_BACKGROUNDS[rng.integers(len(_ACTION_BACKGROUNDS))]
        motion = ACTION_MOTIONS[rng.integers(len(ACTION_MOTIONS))]
        period = int(rng.integers(10, 17))
        phase = float(rng.uniform(0, 2 * np.pi))
        frames = action_clip(shape, _ACTION_COLOURS[colour], background, motion, num_frames, image_size, period,
                             phase)
        clips.append((f"{index:02d}_{colour}_{shape}_{motion}", frames))
    return clips


# Built-in datasets of several clips (`--data synthetic:NAME`).
DATASETS = {"actions": action_dataset}
