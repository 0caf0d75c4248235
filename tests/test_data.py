"""Decoding, normalising, synthetic textures, writers, and the errors bad input gives."""

import os

import av
import numpy as np
import pytest
from PIL import Image

from abp_video.data import sources, synthetic, video_io, writers


def test_synthetic_textures_are_deterministic_by_seed_and_move():
    for name in synthetic.TEXTURES:
        first = synthetic.make_texture(name, 12, 32, seed=4)
        assert first.shape == (12, 32, 32, 3) and first.dtype == np.uint8
        np.testing.assert_array_equal(first, synthetic.make_texture(name, 12, 32, seed=4))
        assert not np.array_equal(first, synthetic.make_texture(name, 12, 32, seed=5))
        # A dynamic texture: consecutive frames differ, but not like independent noise.
        steps = np.abs(np.diff(first.astype(np.float32), axis=0)).mean()
        assert 0.5 < steps < np.abs(first[0].astype(np.float32) - first[0].mean()).mean() * 2
    with pytest.raises(ValueError, match="unknown synthetic texture"):
        sources.load_clips("synthetic:smoke", 4, 16)


def test_normalize_each_frame_to_minus_one_one():
    frames = np.stack([np.linspace(10, 20, 48).reshape(4, 4, 3), np.linspace(0, 255, 48).reshape(4, 4, 3),
                       np.full((4, 4, 3), 7.0)])
    normalized = video_io.normalize_frames(frames)
    np.testing.assert_allclose(normalized[:2].min(axis=(1, 2, 3)), -1.0)
    np.testing.assert_allclose(normalized[:2].max(axis=(1, 2, 3)), 1.0)
    np.testing.assert_array_equal(normalized[2], 0.0)


@pytest.fixture
def video_file(tmp_path):
    frames = synthetic.make_texture("water", 10, 32, seed=0)
    return writers.write_mp4(str(tmp_path / "clip.mp4"), frames), frames


def test_mp4_round_trip_and_resize(video_file):
    path, frames = video_file
    decoded = video_io.read_video(path)
    assert decoded.shape == frames.shape
    assert np.abs(decoded.astype(np.float32) - frames).mean() < 8.0  # H.264 at crf 18.
    assert video_io.read_video(path, num_frames=4, image_size=16).shape == (4, 16, 16, 3)


def test_bad_videos_name_the_path_and_the_fix(tmp_path, video_file):
    path, _ = video_file
    with pytest.raises(ValueError, match=r"has 10 frames but 20 were asked for; pass --num_frames 10"):
        video_io.read_video(path, num_frames=20)
    with pytest.raises(FileNotFoundError, match="nowhere.avi"):
        sources.load_clips(str(tmp_path / "nowhere.avi"), 4, 16)
    garbage = tmp_path / "garbage.avi"
    garbage.write_bytes(os.urandom(5000))
    with pytest.raises(ValueError, match="garbage.avi"):
        sources.load_clips(str(garbage), 4, 16)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty.mp4"):
        sources.load_clips(str(empty), 4, 16)
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(open(path, "rb").read()[:1500])
    with pytest.raises(ValueError, match="truncated.mp4"):
        sources.load_clips(str(truncated), 10, 16)
    (tmp_path / "empty_folder").mkdir()
    text = tmp_path / "notes.txt"
    text.write_text("not a video")
    with pytest.raises(ValueError, match="not a video file"):
        sources.load_clips(str(text), 4, 16)
    with pytest.raises(ValueError, match="no video files and no frame images"):
        sources.load_clips(str(tmp_path / "empty_folder"), 4, 16)


def test_frame_folder_and_folder_of_videos(tmp_path, video_file):
    frames_dir = tmp_path / "frames"
    frames_dir.mkdir()
    frames = synthetic.make_texture("fire", 6, 24, seed=1)
    for index, frame in enumerate(frames):
        Image.fromarray(frame).save(frames_dir / f"{index:03d}.png")
    [clip] = sources.load_clips(str(frames_dir), 5, 16)
    assert clip.name == "frames" and clip.frames.shape == (5, 16, 16, 3)
    with pytest.raises(ValueError, match="has 6 frames but 9"):
        sources.load_clips(str(frames_dir), 9, 16)
    videos = tmp_path / "videos"
    videos.mkdir()
    path, _ = video_file
    for name in ("a.mp4", "b.mp4"):
        os.link(path, videos / name)
    assert [clip.name for clip in sources.load_clips(str(videos), 4, 16)] == ["a", "b"]
    (frames_dir / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="broken.png"):
        sources.load_clips(str(frames_dir), 7, 16)


def test_writers(tmp_path):
    clip = synthetic.make_texture("water", 6, 16, seed=0)
    other = video_io.normalize_frames(synthetic.make_texture("fire", 3, 16, seed=0))
    panel = writers.side_by_side([clip, other])
    assert panel.shape == (6, 16, 34, 3) and panel.dtype == np.uint8
    gif = writers.write_gif(str(tmp_path / "a.gif"), panel)
    with Image.open(gif) as image:
        assert image.n_frames == 6
    mp4 = writers.write_mp4(str(tmp_path / "a.mp4"), panel)
    with av.open(mp4) as container:
        assert sum(1 for _ in container.decode(video=0)) == 6
    strip = writers.frame_strip([clip, clip], every=2)
    assert strip.shape == (2 * 16 + 2, 3 * 16 + 2 * 2, 3)


@pytest.mark.parametrize("relative", [
    "dynamicTexture/fire/fire.avi", "dynamicTexture/flashing_light/64ce210.avi",
    "recovery_dataset/data/fountain/6486110.avi", "action_dataset/animal30_running/1.mp4"])
def test_shared_clips_decode(shared_video, relative):
    [clip] = sources.load_clips(os.path.join(shared_video, relative), 30, 64)
    assert clip.frames.shape == (30, 64, 64, 3)
    assert clip.frames.min() == -1.0 and clip.frames.max() == 1.0
