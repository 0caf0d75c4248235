"""Masks: the authors' .mat, .npy, PNG folders and mask videos give the same `visible` arrays; generators; errors."""

import os

import numpy as np
import pytest
import scipy.io
from PIL import Image

from abp_video.data import masks, writers


def _occlusion(frames=6, size=30, seed=0):
    """A bool [frames, size, size] occlusion with a moving block, the kind of mask the authors used."""
    occluded = np.zeros((frames, size, size), bool)
    for t in range(frames):
        occluded[t, 3 + t:15 + t, 5 + 2 * t:17 + 2 * t] = True
    return occluded


def test_mat_npy_png_and_video_masks_agree(tmp_path):
    occluded = _occlusion()
    expected = np.repeat(~occluded[..., None], 3, axis=-1).astype(np.float32)
    shape = expected.shape
    # The authors' layout: [height, width, frames, 3], uint8, 1 = occluded.
    mat = np.repeat(np.moveaxis(occluded, 0, 2)[..., None], 3, axis=-1).astype(np.uint8)
    scipy.io.savemat(tmp_path / "region.mat", {"masks": mat})
    np.save(tmp_path / "mask.npy", occluded.astype(np.uint8))
    folder = tmp_path / "pngs"
    folder.mkdir()
    for t, frame in enumerate(occluded):
        Image.fromarray(frame.astype(np.uint8) * 255).save(folder / f"{t:03d}.png")
    video = np.repeat(occluded[..., None], 3, axis=-1).astype(np.uint8) * 255
    writers.write_mp4(str(tmp_path / "mask.mp4"), np.pad(video, ((0, 0), (0, 2), (0, 2), (0, 0))))

    for name in ("region.mat", "mask.npy", "pngs"):
        np.testing.assert_array_equal(masks.load_mask(str(tmp_path / name), shape), expected, err_msg=name)
    # H.264 blurs the block edges a little; white = remove survives thresholding almost everywhere.
    from_video = masks.load_mask(str(tmp_path / "mask.mp4"), (6, 32, 32, 3))[:, :30, :30]
    assert np.mean(from_video != expected) < 0.01


def test_mat_mask_is_resized_nearest_and_cut_to_the_clip(tmp_path):
    occluded = np.zeros((4, 20, 20), bool)
    occluded[:, 10:, :10] = True  # Bottom-left quarter.
    scipy.io.savemat(tmp_path / "m.mat", {"masks": np.moveaxis(occluded, 0, 2).astype(np.uint8)})
    visible = masks.load_mask(str(tmp_path / "m.mat"), (3, 8, 8, 3))
    assert visible.shape == (3, 8, 8, 3) and set(np.unique(visible)) == {0.0, 1.0}
    np.testing.assert_array_equal(visible[0, :, :, 0], np.where(
        (np.arange(8)[:, None] >= 4) & (np.arange(8)[None] < 4), 0.0, 1.0))


def test_mask_with_too_few_frames_names_both_shapes(tmp_path):
    np.save(tmp_path / "short.npy", np.zeros((5, 16, 16), np.uint8))
    with pytest.raises(ValueError, match=r"\(5, 16, 16, 1\).*\(8, 16, 16, 3\)"):
        masks.load_mask(str(tmp_path / "short.npy"), (8, 16, 16, 3))
    np.save(tmp_path / "channels.npy", np.zeros((8, 16, 16, 2), np.uint8))
    with pytest.raises(ValueError, match=r"\(8, 16, 16, 2\).*\(8, 16, 16, 3\)"):
        masks.load_mask(str(tmp_path / "channels.npy"), (8, 16, 16, 3))
    with pytest.raises(FileNotFoundError, match="no/such"):
        masks.load_mask("/no/such/mask.mat", (8, 16, 16, 3))
    scipy.io.savemat(tmp_path / "other.mat", {"m": np.zeros((4, 4, 4))})
    with pytest.raises(ValueError, match="no variable `masks`"):
        masks.load_mask(str(tmp_path / "other.mat"), (4, 4, 4, 3))


@pytest.mark.parametrize("size", [64, 150])
def test_generators(size):
    frames = 70
    region = masks.generate_mask("region", frames, size, seed=3)
    side = round(60 * size / 150)
    assert region.shape == (frames, size, size, 3)
    np.testing.assert_array_equal((region[..., 0] == 0).sum(axis=(1, 2)), side * side)  # One square per frame.
    missing = masks.generate_mask("missing_frames", frames, size, seed=3)
    per_frame = missing[..., 0].mean(axis=(1, 2))
    assert set(np.unique(per_frame)) == {0.0, 1.0} and (per_frame == 0).sum() == frames // 2
    pepper = masks.generate_mask("salt_pepper", frames, size, seed=3)
    assert abs(pepper.mean() - 0.5) < 0.01 and (pepper[..., 0] == pepper[..., 2]).all()
    block = masks.generate_mask("block", frames, size, seed=3)
    occluded_frames = np.flatnonzero((block[..., 0] == 0).any(axis=(1, 2)))
    assert len(occluded_frames) == frames // 2 and np.all(np.diff(occluded_frames) == 1)
    # Deterministic by seed, different across seeds.
    np.testing.assert_array_equal(region, masks.generate_mask("region", frames, size, seed=3))
    assert not np.array_equal(region, masks.generate_mask("region", frames, size, seed=4))
    with pytest.raises(ValueError, match="unknown --mask_type"):
        masks.generate_mask("stripes", frames, size)


def test_authors_masks(shared_video):
    """The shared fountain masks: 60x60 squares and 35 of 70 missing frames, 1 = occluded in the file."""
    folder = os.path.join(shared_video, "recovery_dataset", "mask", "fountain")
    region = masks.load_mask(os.path.join(folder, "region_type.mat"), (70, 150, 150, 3))
    np.testing.assert_array_equal((region[..., 0] == 0).sum(axis=(1, 2)), 3600)
    missing = masks.load_mask(os.path.join(folder, "missing_frame_type.mat"), (70, 64, 64, 3))
    assert (missing.mean(axis=(1, 2, 3)) == 0).sum() == 35 and set(np.unique(missing)) == {0.0, 1.0}
