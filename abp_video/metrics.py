"""Recovery metrics on occluded pixels, for both models and every baseline: error on [0, 255] and PSNR."""

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


def recovery_metrics(recovered, original, visible):
    """Both metrics as a dict, plus the occluded fraction."""
    return {"recovery_error": recovery_error(recovered, original, visible),
            "recovery_psnr": recovery_psnr(recovered, original, visible),
            "occluded_fraction": float(np.mean(np.broadcast_to(np.asarray(visible) == 0, np.shape(original))))}
