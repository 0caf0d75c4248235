"""Recovery metrics on occluded pixels, for both models and every baseline: error and PSNR.

One convention for both models: every error key names its scale. `<prefix>recovery_error_255` is the mean absolute
difference over the occluded values on the [0, 255] pixel scale (AAAI'19 Table 2's); `<prefix>recovery_error_unit`
the same with pixels in [-1, 1] (WACV'19 Tables 1-3's). `stored_error` reads either from a metrics dict, including
runs stored before the keys named their scale.
"""

import numpy as np

# Clips are in [-1, 1]; a difference of d there is d · 127.5 on the [0, 255] pixel scale.
TO_PIXEL_SCALE = 255.0 / 2.0


def _occluded(visible, shape):
    occluded = np.broadcast_to(np.asarray(visible) == 0, shape)
    if not occluded.any():
        raise ValueError("the mask occludes nothing, so there is no recovery to measure")
    return occluded


def recovery_error(recovered, original, visible):
    """AAAI'19 §4.3: mean absolute difference over occluded values, on the [0, 255] scale.

    As the authors computed it: mean(|recovered - original|[occluded]) / 2 · 255 with clips in [-1, 1], every colour
    channel of every occluded pixel counted once.

    Args:
      recovered, original: float arrays in [-1, 1], same shape.
      visible: mask of the same (or broadcastable) shape, 1 = visible.
    """
    recovered, original = np.asarray(recovered, np.float64), np.asarray(original, np.float64)
    occluded = _occluded(visible, original.shape)
    return float(np.mean(np.abs(recovered - original)[occluded]) * TO_PIXEL_SCALE)


def recovery_psnr(recovered, original, visible):
    """PSNR in dB over occluded values: 10 log10(255² / MSE), MSE on the [0, 255] scale."""
    recovered, original = np.asarray(recovered, np.float64), np.asarray(original, np.float64)
    occluded = _occluded(visible, original.shape)
    mse = np.mean(np.square((recovered - original)[occluded] * TO_PIXEL_SCALE))
    return float("inf") if mse == 0 else float(10.0 * np.log10(255.0 ** 2 / mse))


SCALES = ("255", "unit")


def recovery_metrics(recovered, original, visible, prefix=""):
    """The error on both scales, the PSNR and the occluded fraction, as `<prefix>key`."""
    error = recovery_error(recovered, original, visible)
    return {f"{prefix}recovery_error_255": error, f"{prefix}recovery_error_unit": error / TO_PIXEL_SCALE,
            f"{prefix}recovery_psnr": recovery_psnr(recovered, original, visible),
            f"{prefix}occluded_fraction": float(np.mean(np.broadcast_to(np.asarray(visible) == 0,
                                                                         np.shape(original))))}


def stored_error(stored, prefix="", scale="255"):
    """`<prefix>recovery_error_<scale>` of a metrics dict, or None when it has none.

    Runs stored before the keys named their scale hold a bare `<prefix>recovery_error`: on [0, 255] in the dynamic
    generator's runs, on [-1, 1] in the spatial-temporal ones, which held `<prefix>recovery_error_255` beside it.
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    named = stored.get(f"{prefix}recovery_error_{scale}")
    if named is not None:
        return named
    bare, on_255 = stored.get(f"{prefix}recovery_error"), stored.get(f"{prefix}recovery_error_255")
    if bare is None:
        return None
    error_255 = on_255 if on_255 is not None else bare
    return error_255 if scale == "255" else error_255 / TO_PIXEL_SCALE
