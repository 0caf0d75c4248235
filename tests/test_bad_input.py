"""The bad-input catalogue: every CLI entry point and mode, fed a table of bad inputs.

Each case must end with exactly one line `error: ...` that names the problem and the fix, exit code 2, no
traceback, no new run directory left behind, and the existing runs untouched (every file byte for byte). Cases run
in-process through `main.entry(argv)`; a few run as real `python main.py` subprocesses at the end.
"""

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import wave

import av
import numpy as np
import pytest

import main as cli
from abp_video.data import synthetic, writers
from dynamic_generator import configs
from dynamic_generator.experiments import recover, texture

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = configs.TEXTURE_TINY  # 8 frames of 16x16, chunks of 4.


def _write_avi(path, frames):
    with av.open(path, mode="w") as container:
        stream = container.add_stream("mpeg4", rate=12)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Bad files, and two existing runs (texture and recover, tiny) that no case may damage."""
    root = tmp_path_factory.mktemp("bad_input")
    frames = synthetic.make_texture("fire", 40, 32, seed=0)
    _write_avi(str(root / "long.avi"), frames)
    _write_avi(str(root / "short.avi"), frames[:5])
    data = (root / "long.avi").read_bytes()
    (root / "truncated.avi").write_bytes(data[:len(data) * 3 // 4])  # 3 of 40 frames decode.
    writers.write_mp4(str(root / "long.mp4"), frames)
    data = (root / "long.mp4").read_bytes()
    (root / "truncated.mp4").write_bytes(data[:len(data) // 2])  # The index (moov) is at the end: undecodable.
    (root / "empty.avi").write_bytes(b"")
    with wave.open(str(root / "sound_only.avi"), "wb") as handle:  # WAV bytes under a video name: no video stream.
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(8000)
        handle.writeframes(np.zeros(800, np.int16).tobytes())
    # Fixed bytes: FFmpeg's probe finds a stream-less container in some random byte strings, not in others.
    (root / "garbage.avi").write_bytes(np.random.default_rng(0).bytes(5000))
    (root / "locked.avi").write_bytes(data)
    os.chmod(root / "locked.avi", 0)
    writers.write_png(str(root / "frame.png"), frames[0])
    (root / "a_file").write_text("not a folder")
    occluded = np.zeros((8, 16, 16), np.uint8)
    occluded[:, 4:8, 4:8] = 1
    np.save(root / "mask_ok.npy", occluded)
    np.save(root / "mask_3frames.npy", occluded[:3])
    np.save(root / "mask_2d.npy", occluded[0])
    np.save(root / "mask_soft.npy", occluded * 0.5)
    np.save(root / "mask_text.npy", np.full((8, 16, 16), "x"))
    np.save(root / "mask_objects.npy", np.array([None, 1], dtype=object), allow_pickle=True)
    np.save(root / "mask_all.npy", np.ones((8, 16, 16), np.uint8))
    (root / "not_an_image.png").write_bytes(np.random.default_rng(1).bytes(300))
    texture_run, recover_run = str(root / "texture_run"), str(root / "recover_run")
    texture.train_texture(dataclasses.replace(TINY, num_iterations=1), texture_run)
    recover.run_recovery(dataclasses.replace(configs.RECOVER_TINY, num_iterations=1), recover_run, quiet=True)
    stgcn_run = str(root / "stgcn_run")
    recover.run_recovery(dataclasses.replace(configs.RECOVER_TINY, num_iterations=1, method="stgcn"), stgcn_run,
                         quiet=True)
    mocogan_run = str(root / "mocogan_run")
    texture.train_mocogan(dataclasses.replace(TINY, num_iterations=1, method="mocogan"), mocogan_run)
    runs = {"V": str(root), "TEXTURE_RUN": texture_run, "RECOVER_RUN": recover_run, "STGCN_RUN": stgcn_run,
            "MOCOGAN_RUN": mocogan_run}
    for experiment in ("action", "animate"):
        runs[f"{experiment.upper()}_RUN"] = str(root / f"{experiment}_run")
        with pytest.raises(SystemExit) as exit_info:
            cli.entry(["main.py", "--experiment", experiment, "--preset", "tiny", "--iterations", "1",
                       "--workdir", runs[f"{experiment.upper()}_RUN"]])
            raise SystemExit(0)
        assert exit_info.value.code == 0
    runs["ST_RUN"] = str(root / "st_run")  # A spatial-temporal run (st_recover, Model-3).
    with pytest.raises(SystemExit) as exit_info:
        cli.entry(["main.py", "--experiment", "st_recover", "--preset", "tiny", "--iterations", "1", "--workdir",
                   runs["ST_RUN"]])
        raise SystemExit(0)
    assert exit_info.value.code == 0
    os.makedirs(root / "empty_folder")
    with open(os.path.join(runs["ACTION_RUN"], "clips.json")) as handle:
        runs["CLIP_A"], runs["CLIP_B"] = json.load(handle)["training"][:2]
    return runs


def _snapshot(path):
    digest = {}
    for folder, _, names in os.walk(path):
        for name in names:
            file_path = os.path.join(folder, name)
            with open(file_path, "rb") as handle:
                digest[os.path.relpath(file_path, path)] = hashlib.sha256(handle.read()).hexdigest()
    return digest


RUNS = ("TEXTURE_RUN", "RECOVER_RUN", "ACTION_RUN", "ANIMATE_RUN", "ST_RUN", "STGCN_RUN", "MOCOGAN_RUN")
TRAIN = ["--preset", "tiny", "--workdir", "{NEW}"]
RECOVER = ["--experiment", "recover"] + TRAIN
INPAINT = ["--experiment", "inpaint"] + TRAIN
EVAL = ["--experiment", "texture_eval"] + TRAIN
ACTION = ["--experiment", "action"] + TRAIN
ANIMATE = ["--experiment", "animate"] + TRAIN
ANIMATE_MODE = ["--mode", "animate", "--workdir", "{ANIMATE_RUN}"]
RECOVER_NEW = ["--experiment", "recover", "--mode", "recover_new", "--workdir", "{RECOVER_RUN}"]
SAMPLE = ["--mode", "sample", "--workdir", "{TEXTURE_RUN}"]
EXPORT = ["--mode", "export", "--workdir", "{TEXTURE_RUN}"]
ST_SYNTHESIS = ["--experiment", "st_synthesis"] + TRAIN
ST_INTERPOLATE = ["--experiment", "st_interpolate"] + TRAIN
ST_RECOVER = ["--experiment", "st_recover"] + TRAIN
ST_MULTIMODAL = ["--experiment", "st_multimodal"] + TRAIN
ST_EXPORT = ["--mode", "export", "--workdir", "{ST_RUN}"]

# (case id, argv, what the error line must name: the problem, then the fix).
CASES = [
    # Missing, unreadable, empty, truncated videos; an image where a video is expected.
    ("texture-missing-video", TRAIN + ["--data", "{V}/none.avi"], ["none.avi: no such file", "Give a video file"]),
    ("recover-missing-video", RECOVER + ["--data", "{V}/none.avi"], ["no such file", "Give a video file"]),
    ("inpaint-missing-video", INPAINT + ["--data", "{V}/none.avi"], ["no such file", "Give a video file"]),
    ("eval-missing-video", EVAL + ["--data", "{V}/none.avi"], ["no such file", "Give a video file"]),
    ("recover_new-missing-video", RECOVER_NEW + ["--data", "{V}/none.avi"], ["no such file", "Give a video"]),
    ("texture-garbage-video", TRAIN + ["--data", "{V}/garbage.avi"], ["cannot decode video", "give a video file"]),
    ("texture-audio-only", TRAIN + ["--data", "{V}/sound_only.avi"],
     ["{V}/sound_only.avi", "no video stream", "give a video"]),
    ("texture-empty-video", TRAIN + ["--data", "{V}/empty.avi"], ["empty.avi", "give a video file"]),
    ("recover-empty-video", RECOVER + ["--data", "{V}/empty.avi"], ["empty.avi", "give a video file"]),
    ("texture-truncated-avi", TRAIN + ["--data", "{V}/truncated.avi"], ["cut short", "pass --num_frames"]),
    ("texture-truncated-mp4", TRAIN + ["--data", "{V}/truncated.mp4"], ["cannot decode video", "give a video"]),
    ("texture-unreadable-video", TRAIN + ["--data", "{V}/locked.avi"], ["locked.avi", "give a video file"]),
    ("texture-image-not-video", TRAIN + ["--data", "{V}/frame.png"], ["is not a video file", "give a video"]),
    ("recover-image-not-video", RECOVER + ["--data", "{V}/frame.png"], ["is not a video file", "give a video"]),
    ("texture-too-few-frames", TRAIN + ["--data", "{V}/short.avi"],
     ["has 5 frames", "pass --num_frames 5 or less"]),
    ("inpaint-too-few-frames", INPAINT + ["--data", "{V}/short.avi"], ["has 5 frames", "or a longer clip"]),
    ("texture-quick-too-few-frames", ["--workdir", "{NEW}", "--data", "{V}/short.avi"],
     ["30 were asked for", "pass --num_frames"]),
    ("texture-unknown-synthetic", TRAIN + ["--data", "synthetic:smoke"], ["unknown synthetic texture", "choose"]),
    ("action-missing-data", ACTION + ["--data", "{V}/no_folder"], ["no such file or folder", "Give a video"]),
    ("action-one-clip", ACTION + ["--data", "{V}/long.avi"], ["holds one clip", "give a folder of videos"]),
    ("action-all-held-out", ACTION + ["--num_held_out", "99"], ["leaves no training clip", "holds"]),
    ("action-zero-appearance", ACTION + ["--appearance_dim", "0"], ["--appearance_dim must be positive", "100"]),
    ("action-infer-missing-data", ["--mode", "infer", "--workdir", "{ACTION_RUN}", "--data", "{V}/no_folder"],
     ["no such file or folder", "Give a video"]),
    ("animate-missing-data", ANIMATE + ["--data", "{V}/no_folder"], ["no such file or folder", "Give a video"]),
    ("animate-missing-image", ANIMATE_MODE + ["--image", "{V}/none.png"], ["image not found", "check the path"]),
    ("animate-video-as-image", ANIMATE_MODE + ["--image", "{V}/long.avi"],
     ["is not a supported image file", "take one of its frames"]),
    ("animate-broken-image", ANIMATE_MODE + ["--image", "{V}/not_an_image.png"],
     ["cannot read image", "give an image file"]),
    # Masks: wrong shape, wrong dtype, all occluded, nothing occluded, not a mask.
    ("recover-mask-too-few-frames", RECOVER + ["--mask", "{V}/mask_3frames.npy"],
     ["does not fit the clip", "at least 8 frames"]),
    ("recover-mask-2d", RECOVER + ["--mask", "{V}/mask_2d.npy"], ["has shape (16, 16)", "expected [frames"]),
    ("recover-mask-soft-values", RECOVER + ["--mask", "{V}/mask_soft.npy"],
     ["values other than 0 and 1", "save a binary mask"]),
    ("recover-mask-text", RECOVER + ["--mask", "{V}/mask_text.npy"], ["not numbers", "uint8 or bool"]),
    ("recover-mask-objects", RECOVER + ["--mask", "{V}/mask_objects.npy"], ["cannot read mask", "numpy.save"]),
    ("recover-mask-all-occluded", RECOVER + ["--mask", "{V}/mask_all.npy"],
     ["occludes every pixel", "give a mask with visible"]),
    ("inpaint-mask-all-occluded", INPAINT + ["--mask", "{V}/mask_all.npy"], ["occludes every pixel", "give"]),
    ("recover_new-mask-all-occluded", RECOVER_NEW + ["--data", "synthetic:fire", "--mask", "{V}/mask_all.npy"],
     ["occludes every pixel", "give a mask"]),
    ("recover-mask-image", RECOVER + ["--mask", "{V}/frame.png"], ["not a mask file", "give a .mat"]),
    ("recover-mask-missing", RECOVER + ["--mask", "{V}/none.npy"], ["no such file", "--mask"]),
    ("recover-mask-type", RECOVER + ["--mask_type", "blob"], ["--mask_type must be one of", "blob"]),
    # Unknown experiment, preset, mode, flag, flag values.
    ("unknown-experiment", ["--experiment", "texturez", "--workdir", "{NEW}"], ["unknown experiment", "choose"]),
    ("unknown-preset", ["--preset", "huge", "--workdir", "{NEW}"], ["unknown preset 'huge'", "choose one of"]),
    ("recover-unknown-preset", ["--experiment", "recover", "--preset", "huge", "--workdir", "{NEW}"],
     ["unknown preset", "choose one of"]),
    ("unknown-mode", ["--mode", "dance", "--workdir", "{NEW}"], ["--mode dance does not exist", "choose one of"]),
    ("eval-unknown-mode", ["--experiment", "texture_eval", "--mode", "export", "--workdir", "{NEW}"],
     ["does not exist for texture_eval", "choose one of"]),
    ("unknown-flag", TRAIN + ["--no_such_flag", "3"], ["no_such_flag", "--experiment NAME --help"]),
    ("non-integer-flag", TRAIN + ["--iterations", "many"], ["many", "--experiment NAME --help"]),
    ("non-integer-list-flag", TRAIN + ["--emission_filters", "8,a,3"], ["comma-separated integers", "8,a,3"]),
    ("unknown-energy-scale", TRAIN + ["--energy_scale", "mean"], ["--energy_scale must be one of", "mean"]),
    ("unknown-method", RECOVER + ["--method", "magic"], ["--method must be one of", "magic"]),
    ("texture-recovery-method", TRAIN + ["--method", "lhd"], ["--method must be one of", "for --experiment"]),
    ("st-unknown-method", ["--experiment", "st_recover"] + TRAIN + ["--method", "magic"],
     ["--method must be one of", "'magic'"]),
    ("st-method-conflicts-with-init", ["--experiment", "st_recover"] + TRAIN + ["--method", "vae", "--init", "li"],
     ["--init li conflicts with --method vae", "give --method only"]),
    ("st-baseline-on-interpolate", ["--experiment", "st_interpolate"] + TRAIN + ["--method", "gan"],
     ["baseline of --experiment st_recover", "takes --method abp or li_abp"]),
    ("st-unknown-table-method", ["--experiment", "st_recover", "--mode", "table", "--preset", "tiny", "--workdir",
                                 "{NEW}", "--data", "synthetic_fire", "--table_methods", "abp,diffusion"],
     ["unknown methods ['diffusion']", "choose from"]),
    ("st-unknown-table-stage", ["--experiment", "st_recover", "--mode", "table", "--preset", "tiny", "--workdir",
                                "{NEW}", "--data", "synthetic_fire", "--table_stages", "test,validation"],
     ["unknown stages ['validation']", "choose from"]),
    ("st-negative-baseline-iterations", ["--experiment", "st_recover", "--mode", "table", "--preset", "tiny",
                                         "--workdir", "{NEW}", "--data", "synthetic_fire", "--baseline_iterations",
                                         "-1"], ["--baseline_iterations must be 0", "-1"]),
    ("unknown-transition", TRAIN + ["--transition", "cubic"], ["--transition must be", "cubic"]),
    ("unknown-table-method", ["--experiment", "recover", "--mode", "table", "--preset", "tiny", "--workdir", "{NEW}",
                              "--table_methods", "dg,oracle"], ["unknown methods ['oracle']", "choose from"]),
    ("unsupported-image-size", TRAIN + ["--image_size", "100"], ["--image_size 100", "choose 64, 128 or 150"]),
    ("chunk-not-dividing", TRAIN + ["--num_frames", "6"], ["multiple of --chunk_length", "(4)"]),
    # A --workdir holding another experiment's run, or another configuration.
    ("recover-into-texture-run", ["--experiment", "recover", "--workdir", "{TEXTURE_RUN}"],
     ["holds a 'texture' run, not 'recover'", "choose another --workdir"]),
    ("texture-into-recover-run", ["--experiment", "texture", "--workdir", "{RECOVER_RUN}"],
     ["holds a 'recover' run, not 'texture'", "choose another --workdir"]),
    ("inpaint-into-recover-run", ["--experiment", "inpaint", "--workdir", "{RECOVER_RUN}", "--preset", "tiny"],
     ["holds a 'recover' run", "choose another --workdir"]),
    ("eval-into-texture-run", ["--experiment", "texture_eval", "--workdir", "{TEXTURE_RUN}"],
     ["holds a 'texture' run", "choose another --workdir"]),
    ("recover_new-on-texture-run", ["--experiment", "recover", "--mode", "recover_new", "--workdir",
                                    "{TEXTURE_RUN}", "--data", "synthetic:fire"],
     ["holds a 'texture' run", "needs a trained `--experiment recover --method dg` run"]),
    ("sample-on-stgcn-run", ["--mode", "sample", "--workdir", "{STGCN_RUN}"],
     ["holds a --method stgcn run", "give a run trained with --method dg"]),
    ("export-stgcn-run", ["--mode", "export", "--workdir", "{STGCN_RUN}", "--export_dir", "{NEW}"],
     ["holds a --method stgcn run", "export a --method dg run"]),
    ("recover_new-on-stgcn-run", ["--experiment", "recover", "--mode", "recover_new", "--workdir", "{STGCN_RUN}",
                                  "--data", "synthetic:fire"],
     ["with method 'stgcn'", "needs a trained `--experiment recover --method dg` run"]),
    ("mocogan-frame-size", TRAIN + ["--method", "mocogan", "--image_size", "150"],
     ["MoCoGAN's networks take frames of 16, 32, 64, 128", "choose --image_size 64"]),
    ("sample-stream-on-mocogan-run", ["--mode", "sample", "--workdir", "{MOCOGAN_RUN}", "--stream"],
     ["holds a MoCoGAN run", "drop them"]),
    ("negative-mocogan-iterations", EVAL + ["--mocogan_iterations", "-1"], ["--mocogan_iterations must be 0", "-1"]),
    ("sample-as-action-on-texture-run", ["--experiment", "action"] + SAMPLE,
     ["holds a 'texture' run, not 'action'", "--experiment texture"]),
    ("infer-as-action-on-recover-run", ["--experiment", "action", "--mode", "infer", "--workdir", "{RECOVER_RUN}",
                                        "--data", "synthetic:fire"], ["holds a 'recover' run", "--experiment recover"]),
    ("interpolate-on-texture-run", ["--experiment", "interpolate", "--workdir", "{TEXTURE_RUN}", "--clips", "a,b"],
     ["holds a 'texture' run, not 'interpolate'", "choose another --workdir"]),
    ("other-preset-on-run", ["--preset", "paper", "--workdir", "{TEXTURE_RUN}"],
     ["holds a 'tiny' run, not 'paper'", "choose another --workdir"]),
    ("other-configuration-on-run", ["--workdir", "{TEXTURE_RUN}", "--state_dim", "9"],
     ["another configuration (state_dim", "choose another --workdir"]),
    ("action-into-texture-run", ["--experiment", "action", "--workdir", "{TEXTURE_RUN}"],
     ["holds a 'texture' run, not 'action'", "choose another --workdir"]),
    ("animate-into-action-run", ["--experiment", "animate", "--workdir", "{ACTION_RUN}"],
     ["holds a 'action' run, not 'animate'", "choose another --workdir"]),
    ("animate-mode-on-texture-run", ["--experiment", "animate", "--mode", "animate", "--workdir", "{TEXTURE_RUN}",
                                     "--image", "{V}/frame.png"], ["holds a 'texture' run", "choose another"]),
    ("sample-on-animate-run", ["--mode", "sample", "--workdir", "{ANIMATE_RUN}"],
     ["--mode sample does not exist for animate", "choose one of"]),
    ("interpolate-unknown-clip", ["--experiment", "interpolate", "--workdir", "{ACTION_RUN}", "--clips", "x,y"],
     ["no such training clip", "choose from"]),
    ("interpolate-one-clip", ["--experiment", "interpolate", "--workdir", "{ACTION_RUN}", "--clips", "x"],
     ["takes two training clip names", "this run has"]),
    ("interpolate-no-workdir", ["--experiment", "interpolate", "--clips", "x,y"], ["needs --workdir", "action run"]),
    ("interpolate-no-run", ["--experiment", "interpolate", "--workdir", "{NEW}", "--clips", "x,y"],
     ["no run in", "train one first"]),
    ("animate-mode-no-image", ANIMATE_MODE, ["needs --image", "the image file"]),
    ("infer-no-data", ["--mode", "infer", "--workdir", "{ACTION_RUN}"], ["needs --data", "the new clips"]),
    ("sample-no-run", ["--mode", "sample", "--workdir", "{NEW}"], ["no run in", "train one first"]),
    ("sample-no-workdir", ["--mode", "sample"], ["needs --workdir", "trained run"]),
    ("export-no-run", ["--mode", "export", "--workdir", "{NEW}", "--export_dir", "{V}/x"],
     ["no run in", "train one first"]),
    ("export-no-export-dir", EXPORT, ["needs --export_dir", "a new folder"]),
    ("export-existing-dir", EXPORT + ["--export_dir", "{TEXTURE_RUN}"], ["already exists", "choose a new"]),
    ("recover_new-no-data", RECOVER_NEW, ["needs --data", "the new clip"]),
    # Output folders that cannot be written.
    ("texture-workdir-under-a-file", TRAIN[:-1] + ["{V}/a_file/run"], ["cannot create", "choose a writable"]),
    ("texture-workdir-in-proc", TRAIN[:-1] + ["/proc/no_such_dir/run"], ["cannot create", "choose a writable"]),
    ("recover-workdir-under-a-file", RECOVER[:-1] + ["{V}/a_file/run"], ["cannot create", "choose a writable"]),
    ("export-dir-under-a-file", EXPORT + ["--export_dir", "{V}/a_file/saved"], ["cannot create", "writable"]),
    # Negative or zero sizes.
    ("zero-image-size", TRAIN + ["--image_size", "0"], ["--image_size 0", "choose 64, 128 or 150"]),
    ("negative-num-frames", TRAIN + ["--num_frames", "-8"], ["--num_frames must be positive", "-8"]),
    ("zero-chunk-length", TRAIN + ["--chunk_length", "0"], ["--chunk_length must be positive", "got 0"]),
    ("negative-state-dim", TRAIN + ["--state_dim", "-1"], ["--state_dim must be positive", "got -1"]),
    ("zero-iterations", TRAIN + ["--iterations", "0"], ["--num_iterations must be positive", "got 0"]),
    ("zero-step-size", TRAIN + ["--langevin_step_size", "0"], ["--langevin_step_size must be positive", "got 0"]),
    ("negative-sigma", RECOVER + ["--sigma", "-0.5"], ["--sigma must be positive", "got -0.5"]),
    ("recover-zero-frames", RECOVER + ["--num_frames", "0"], ["--num_frames must be positive", "got 0"]),
    ("eval-zero-frames", EVAL + ["--num_frames", "0"], ["--num_frames must be positive", "got 0"]),
    ("sample-zero-frames", SAMPLE + ["--num_frames", "0"], ["--num_frames and --num_samples must be positive", "0"]),
    ("sample-negative-samples", SAMPLE + ["--num_samples", "-2"], ["must be positive", "-2"]),
    ("sample-negative-burn-in", SAMPLE + ["--burn_in", "-1"], ["--burn_in must not be negative", "-1"]),
    ("stream-zero-frames", SAMPLE + ["--stream", "--num_frames", "0"], ["must be positive", "got 0"]),
    ("action-sample-zero-frames", ["--mode", "sample", "--workdir", "{ACTION_RUN}", "--num_frames", "0"],
     ["--num_frames must be positive", "got 0"]),
    ("action-stream", ["--mode", "sample", "--workdir", "{ACTION_RUN}", "--stream"],
     ["--stream is for texture", "drop --stream"]),
    ("action-zero-batch", ACTION + ["--batch_size", "-1"], ["--batch_size", "-1"]),
    ("animate-zero-frames", ANIMATE_MODE + ["--image", "{V}/frame.png", "--num_frames", "0"],
     ["must be positive", "got 0"]),
    ("animate-negative-samples", ANIMATE_MODE + ["--image", "{V}/frame.png", "--num_samples", "-3"],
     ["must be positive", "-3"]),
    ("interpolate-zero-frames", ["--experiment", "interpolate", "--workdir", "{ACTION_RUN}", "--clips",
                                 "{CLIP_A},{CLIP_B}", "--num_frames", "0"], ["--num_frames must be positive", "0"]),
    ("interpolate-one-step", ["--experiment", "interpolate", "--workdir", "{ACTION_RUN}", "--clips", "{CLIP_A},{CLIP_B}",
                              "--steps", "1"], ["--steps must be at least 2", "got 1"]),
    ("recover_new-zero-iterations", RECOVER_NEW + ["--data", "synthetic:fire", "--inference_iterations", "0"],
     ["--inference_iterations must be positive", "got 0"]),
    # ---- spatial-temporal experiments (st_generator) ----
    # Videos: missing, undecodable, empty, truncated, an image, too short for the segments.
    ("st_recover-missing-video", ST_RECOVER + ["--data", "{V}/none.avi"], ["no such file", "Give a video file"]),
    ("st_synthesis-missing-video", ST_SYNTHESIS + ["--data", "{V}/none.avi"], ["no such file", "Give a video"]),
    ("st_synthesis-model1-missing-video", ST_SYNTHESIS + ["--model", "1", "--data", "{V}/none.avi"],
     ["no such file", "Give a video"]),
    ("st_interpolate-missing-video", ST_INTERPOLATE + ["--data", "{V}/none.avi"], ["no such file", "Give a video"]),
    ("st_recover-garbage-video", ST_RECOVER + ["--data", "{V}/garbage.avi"], ["cannot decode video", "give a video"]),
    ("st_synthesis-empty-video", ST_SYNTHESIS + ["--data", "{V}/empty.avi"], ["empty.avi", "give a video file"]),
    ("st_recover-truncated-mp4", ST_RECOVER + ["--data", "{V}/truncated.mp4"], ["cannot decode video", "give a"]),
    ("st_recover-truncated-avi", ST_RECOVER + ["--data", "{V}/truncated.avi"], ["truncated.avi", "--num_frames"]),
    ("st_interpolate-image-not-video", ST_INTERPOLATE + ["--data", "{V}/frame.png"],
     ["is not a video file", "give a video"]),
    ("st_recover-one-segment", ST_RECOVER + ["--data", "{V}/short.avi"],
     ["gives 1 segment(s)", "a longer clip, or a smaller --num_frames"]),
    ("st_interpolate-too-few-frames", ST_INTERPOLATE + ["--data", "{V}/short.avi"],
     ["has 5 frames but 16 were asked for", "or a longer clip"]),
    ("st_synthesis-quick-too-few-frames", ["--experiment", "st_synthesis", "--workdir", "{NEW}", "--data",
                                           "{V}/short.avi"], ["has 5 frames but 16", "pass --num_frames"]),
    ("st_recover-unknown-synthetic", ST_RECOVER + ["--data", "synthetic:smoke"], ["unknown synthetic", "choose"]),
    # Zero or negative sizes, shapes that do not agree.
    ("st_recover-zero-image-size", ST_RECOVER + ["--image_size", "0"], ["--image_size must be positive", "got 0"]),
    ("st_recover-negative-frames", ST_RECOVER + ["--num_frames", "-4"], ["--num_frames must be positive", "-4"]),
    ("st_synthesis-zero-channels", ST_SYNTHESIS + ["--latent_channels", "0"], ["--latent_channels must be", "0"]),
    ("st_recover-negative-batch", ST_RECOVER + ["--batch_size", "-1"], ["--batch_size must be 0 (all) or positive"]),
    ("st_recover-zero-latent-grid", ST_RECOVER + ["--latent_grid", "0,1,1"], ["--latent_grid must be three positive"]),
    ("st_synthesis-two-number-grid", ST_SYNTHESIS + ["--synthesis_grid", "1,2"],
     ["--synthesis_grid must be empty or three positive integers", "(1, 2)"]),
    ("st_recover-non-integer-grid", ST_RECOVER + ["--latent_grid", "1,x,1"], ["comma-separated integers", "1,x,1"]),
    ("st_recover-frames-disagree", ST_RECOVER + ["--num_frames", "6"],
     ["makes videos of 4 frames", "change the latent grid or the number of layers"]),
    ("st_recover-zero-iterations", ST_RECOVER + ["--iterations", "0"], ["--num_iterations must be positive", "0"]),
    ("st_recover-negative-sigma", ST_RECOVER + ["--sigma", "-1"], ["--sigma must be positive", "-1.0"]),
    ("st_recover-test-fraction", ST_RECOVER + ["--test_fraction", "1.5"], ["--test_fraction must be between 0 and 1"]),
    ("st_multimodal-zero-speakers", ST_MULTIMODAL + ["--num_speakers", "0"], ["--num_speakers must be positive"]),
    ("st_multimodal-zero-frames", ST_MULTIMODAL + ["--num_frames", "0"], ["--num_frames must be positive", "0"]),
    # Unknown flag values, and flags another experiment has.
    ("st_synthesis-unknown-model", ST_SYNTHESIS + ["--model", "4"], ["--model must be 1, 2 or 3", "got 4"]),
    ("st_recover-unknown-model", ST_RECOVER + ["--model", "0"], ["--model must be 1, 2 or 3", "got 0"]),
    ("st_recover-unknown-stage", ST_RECOVER + ["--stage", "middle"], ["--stage must be one of", "'middle'"]),
    ("st_recover-unknown-init", ST_RECOVER + ["--init", "random"], ["--init must be one of", "'random'"]),
    ("st_recover-unknown-test-mask", ST_RECOVER + ["--test_masks", "m50,zz"], ["unknown mask 'zz'", "choose from"]),
    ("st_interpolate-unknown-mask", ST_INTERPOLATE + ["--mask_type", "m75"], ["unknown mask 'm75'", "choose from"]),
    ("st_recover-mask-file", ST_RECOVER + ["--mask", "{V}/mask_ok.npy"],
     ["--mask is not a setting of --experiment st_recover", "drop it"]),
    ("st_recover-texture-setting", ST_RECOVER + ["--energy_scale", "sum"], ["--energy_scale is not a setting", "drop"]),
    ("st_synthesis-sample-option", ST_SYNTHESIS + ["--num_samples", "4"],
     ["--num_samples is not used by --experiment st_synthesis", "drop it"]),
    ("st_recover-unknown-strategy", ST_RECOVER + ["--strategy", "sideways"],
     ["--strategy must be default, mirrored or multi_worker", "'sideways'"]),
    ("st_recover-methods-when-training", ST_RECOVER + ["--table_methods", "vae"],
     ["--table_methods is not used by --experiment st_recover --mode train", "drop it"]),
    ("st_recover-baseline-strategy", ST_RECOVER + ["--method", "vae", "--strategy", "mirrored"],
     ["--method vae runs on one device", "use --strategy default"]),
    ("st_multimodal-model", ST_MULTIMODAL + ["--model", "2"], ["--model is not a setting of", "st_multimodal"]),
    ("st_multimodal-strategy", ST_MULTIMODAL + ["--strategy", "mirrored"],
     ["st_multimodal trains on one device only", "drop --strategy"]),
    ("texture-st-setting", TRAIN + ["--latent_grid", "1,1,1"], ["--latent_grid is not a setting", "texture"]),
    ("st_recover-unknown-preset", ["--experiment", "st_recover", "--preset", "huge", "--workdir", "{NEW}"],
     ["unknown preset 'huge'", "choose one of"]),
    ("st_recover-unknown-mode", ["--experiment", "st_recover", "--mode", "sample", "--workdir", "{NEW}"],
     ["--mode sample does not exist for st_recover", "choose one of"]),
    # Runs of other experiments or configurations in --workdir.
    ("st_recover-into-texture-run", ["--experiment", "st_recover", "--workdir", "{TEXTURE_RUN}"],
     ["holds a 'texture' run, not 'st_recover'", "choose another --workdir"]),
    ("st_synthesis-into-st_recover-run", ["--experiment", "st_synthesis", "--workdir", "{ST_RUN}"],
     ["holds a 'st_recover' run, not 'st_synthesis'", "choose another --workdir"]),
    ("texture-into-st-run", ["--experiment", "texture", "--workdir", "{ST_RUN}"],
     ["holds a 'st_recover' run, not 'texture'", "choose another --workdir"]),
    ("st_multimodal-into-st-run", ["--experiment", "st_multimodal", "--workdir", "{ST_RUN}"],
     ["holds a 'st_recover' run, not 'st_multimodal'", "choose another --workdir"]),
    ("st-other-preset", ["--experiment", "st_recover", "--preset", "quick", "--workdir", "{ST_RUN}"],
     ["holds a 'tiny' run, not 'quick'", "choose another --workdir"]),
    ("st-other-configuration", ["--experiment", "st_recover", "--workdir", "{ST_RUN}", "--latent_channels", "9"],
     ["another configuration (latent_channels", "choose another --workdir"]),
    ("st-sample-on-st-run", ["--mode", "sample", "--workdir", "{ST_RUN}"],
     ["--mode sample does not exist for st_recover", "choose one of"]),
    ("st-recover_new-on-st-run", ["--experiment", "recover", "--mode", "recover_new", "--workdir", "{ST_RUN}",
                                  "--data", "synthetic:fire"], ["holds a 'st_recover' run", "choose another"]),
    # Export of a spatial-temporal run.
    ("st-export-existing-dir", ST_EXPORT + ["--export_dir", "{TEXTURE_RUN}"], ["already exists", "choose a new"]),
    ("st-export-no-export-dir", ST_EXPORT, ["needs --export_dir", "a new folder"]),
    ("st-export-dir-under-a-file", ST_EXPORT + ["--export_dir", "{V}/a_file/saved"], ["cannot create", "writable"]),
    ("st-export-as-texture", ["--experiment", "texture"] + ST_EXPORT + ["--export_dir", "{V}/saved"],
     ["holds a 'st_recover' run, not 'texture'", "--experiment st_recover"]),
    ("st-export-sample-option", ST_EXPORT + ["--export_dir", "{V}/saved", "--num_samples", "2"],
     ["--num_samples is not used", "drop it"]),
    ("st-export-no-run", ["--experiment", "st_recover", "--mode", "export", "--workdir", "{NEW}", "--export_dir",
                          "{V}/saved"], ["no run in", "train one first"]),
    ("st_multimodal-export", ["--experiment", "st_multimodal", "--mode", "export", "--workdir", "{NEW}",
                              "--export_dir", "{V}/saved"], ["--mode export does not exist for st_multimodal"]),
    # --mode table: clips by name.
    ("st_recover-table-unknown-clip", ["--experiment", "st_recover", "--mode", "table", "--preset", "tiny",
                                       "--workdir", "{NEW}", "--data", "nosuch"],
     ["['nosuch'] is not one of", "--data picks table clips by name"]),
    ("st_interpolate-table-unknown-clip", ["--experiment", "st_interpolate", "--mode", "table", "--preset", "tiny",
                                           "--workdir", "{NEW}", "--data", "synthetic_fire,nope"],
     ["['nope'] is not one of", "--data picks table clips by name"]),
    # st_multimodal: a bad OuluVS folder.
    ("st_multimodal-missing-folder", ST_MULTIMODAL + ["--data", "{V}/no_folder"],
     ["no such folder", "Give the OuluVS folder"]),
    ("st_multimodal-empty-folder", ST_MULTIMODAL + ["--data", "{V}/empty_folder"],
     ["found no OuluVS utterance videos", "expected one folder per speaker"]),
    ("st_multimodal-video-not-folder", ST_MULTIMODAL + ["--data", "{V}/long.avi"],
     ["no such folder", "Give the OuluVS folder"]),
    ("st_multimodal-too-few-repetitions", ST_MULTIMODAL + ["--test_speakers", "0", "--test_repetitions", "2"],
     ["leaves fewer than 2 training repetitions", "raise --num_repetitions"]),
    ("st_multimodal-too-many-speakers", ST_MULTIMODAL + ["--train_speakers", "3"],
     ["--train_speakers 3 + --test_speakers 1 exceed --num_speakers 3"]),
    ("st_multimodal-one-training-speaker", ST_MULTIMODAL + ["--train_speakers", "1"],
     ["needs at least 2 training speakers"]),
    ("st_multimodal-unknown-time-fit", ST_MULTIMODAL + ["--time_fit", "stretch"], ["--time_fit must be one of"]),
    ("st_multimodal-audio-filters", ST_MULTIMODAL + ["--audio_filters", "4,2"], ["must end with 1", "mono"]),
    # Output folders that cannot be written.
    ("st_recover-workdir-under-a-file", ST_RECOVER[:-1] + ["{V}/a_file/run"], ["cannot create", "choose a writable"]),
    ("st_multimodal-workdir-in-proc", ST_MULTIMODAL[:-1] + ["/proc/no_such_dir/run"],
     ["cannot create", "choose a writable"]),
]


def _expand(argv, values):
    return [item.format(**values) for item in argv]


@pytest.mark.parametrize("case_id,argv,expected", CASES, ids=[case[0] for case in CASES])
def test_bad_input(files, tmp_path, capsys, case_id, argv, expected):
    if case_id == "texture-unreadable-video" and os.geteuid() == 0:
        pytest.skip("running as root: file permissions do not stop reading")
    new = str(tmp_path / "new_run")
    values = dict(files, NEW=new)
    before = {name: _snapshot(files[name]) for name in RUNS}
    with pytest.raises(SystemExit) as exit_info:
        cli.entry(["main.py", *_expand(argv, values)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err
    assert "Traceback" not in err
    for part in expected:
        assert part.format(**values) in errors[0], errors[0]
    assert not os.path.exists(new), "a partial run directory was left behind"
    assert not [name for name in os.listdir(files["V"]) if ".partial" in name]
    for name, snapshot in before.items():
        assert _snapshot(files[name]) == snapshot, f"{name} was changed"


@pytest.mark.slow
@pytest.mark.parametrize("argv,expected", [
    (["--no_such_flag"], "no_such_flag"),
    (["--iterations", "-"], "--experiment NAME --help"),
    (["--data", "/no/such/clip.avi", "--preset", "tiny"], "no such file or folder"),
])
def test_bad_input_in_a_real_process(tmp_path, argv, expected):
    workdir = tmp_path / "run"
    result = subprocess.run([sys.executable, os.path.join(REPO, "main.py"), "--workdir", str(workdir), *argv],
                            capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and expected in errors[0], result.stderr
    assert "Traceback" not in result.stderr and not workdir.exists()
