"""tf.distribute: a mirrored run over 2 logical CPUs equals the one-device run on the same clips and seed."""

import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Runs in a fresh process: logical devices must be configured before TensorFlow initialises its devices.
SCRIPT = r"""
import dataclasses, json, os, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from abp_video.data import sources
from abp_video.configs import with_settings
from dynamic_generator import configs
from dynamic_generator.train import DynamicGeneratorTrainer

config = with_settings(configs.ACTION_TINY, dict(batch_size=4))
clips = sources.load_clips("synthetic:actions", config.num_frames, config.image_size, 0)[:8]
observed = np.stack([clip.frames for clip in clips])
runs = {}
for strategy in ("default", "mirrored"):
    trainer = DynamicGeneratorTrainer(dataclasses.replace(config, strategy=strategy), observed)
    losses = [trainer.train_iteration()["loss"] for _ in range(2)]
    runs[strategy] = dict(replicas=trainer.num_replicas, losses=losses,
                          weights={w.path.split("/", 1)[1]: w.numpy() for w in trainer.model.weights},
                          latents={name: getattr(trainer.latents, name).numpy()
                                   for name in ("noise", "initial_state", "appearance", "motion")})
one, two = runs["default"], runs["mirrored"]
try:
    DynamicGeneratorTrainer(with_settings(config, dict(batch_size=3, strategy="mirrored")), observed[:6])
    refused = ""
except ValueError as error:
    refused = str(error)
print("RESULT " + json.dumps({
    "replicas": [one["replicas"], two["replicas"]], "losses": [one["losses"], two["losses"]],
    "weights": {name: float(np.abs(value - two["weights"][name]).max()) for name, value in one["weights"].items()},
    "latents": {name: float(np.abs(value - two["latents"][name]).max()) for name, value in one["latents"].items()},
    "refused": refused}))
"""


def _run_measurement(script):
    """Runs `script` in a fresh interpreter (it splits the CPU into 2 logical devices) and returns its RESULT dict."""
    result = subprocess.run([sys.executable, "-c", script, REPO], capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert result.returncode == 0 and lines, result.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT "):])


@pytest.mark.slow
def test_mirrored_run_equals_one_device_run():
    measured = _run_measurement(SCRIPT)
    assert measured["replicas"] == [1, 2]
    (one, two) = measured["losses"]
    assert all(abs(a - b) <= 1e-4 * abs(a) for a, b in zip(one, two)), measured["losses"]
    for name, difference in measured["latents"].items():
        assert difference < 1e-5, (name, difference)
    for name, difference in measured["weights"].items():
        if "deconv" in name and name.endswith("bias") and "deconv4" not in name:
            # Biases followed by the batch normalisation: their true gradient is zero (the normalisation removes
            # them), so Adam turns float noise into ±lr steps that differ between any two summation orders and
            # never reach the frames. Every other weight must agree.
            continue
        assert difference < 1e-5, (name, difference)
    assert "divisible by 2" in measured["refused"]


# The spatial-temporal ABP / LI-ABP trainer (st_generator/train.py): Model-3, 4 segments in one batch, 2 replicas.
ST_SCRIPT = r"""
import dataclasses, json, os, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from st_generator import configs
from st_generator.experiments import base
from st_generator.train import STGeneratorTrainer

segments = base.load_segments(configs.RECOVER_TINY)[1][:4]
visible = base.segment_masks("b25", segments.shape, 0)
measured = {}
for case, init, mask in (("abp", "abp", None), ("li_masked", "li", visible)):
    config = dataclasses.replace(configs.RECOVER_TINY, init=init, num_langevin_steps=3)
    runs = {}
    for strategy in ("default", "mirrored"):
        trainer = STGeneratorTrainer(dataclasses.replace(config, strategy=strategy), segments, mask)
        results = [trainer.train_iteration() for _ in range(2)]
        networks = [trainer.model] + ([trainer.init_network] if trainer.init_network is not None else [])
        runs[strategy] = dict(replicas=trainer.num_replicas, results=results, latents=trainer.latents.numpy(),
                              weights={w.path: w.numpy() for network in networks for w in network.weights},
                              recovered=trainer.recover_frozen(segments[:1], np.ones_like(segments[:1]), seed=3),
                              synthesised=trainer.synthesize(2, seed=4))
    one, two = runs["default"], runs["mirrored"]
    measured[case] = {
        "replicas": [one["replicas"], two["replicas"]], "results": [one["results"], two["results"]],
        "latents": float(np.abs(one["latents"] - two["latents"]).max()),
        "weights": {name: float(np.abs(value - two["weights"][name]).max()) for name, value in one["weights"].items()},
        "recovered": float(np.abs(one["recovered"] - two["recovered"]).max()),
        "synthesised": float(np.abs(one["synthesised"] - two["synthesised"]).max())}
try:
    STGeneratorTrainer(dataclasses.replace(configs.RECOVER_TINY, strategy="mirrored"), segments[:3])
    measured["refused"] = ""
except ValueError as error:
    measured["refused"] = str(error)
print("RESULT " + json.dumps(measured))
"""


@pytest.mark.slow
def test_spatial_temporal_mirrored_run_equals_one_device_run():
    measured = _run_measurement(ST_SCRIPT)
    for case in ("abp", "li_masked"):
        found = measured[case]
        assert found["replicas"] == [1, 2]
        for one, two in zip(*found["results"]):
            assert one.keys() == two.keys()
            for key in one:
                assert abs(one[key] - two[key]) <= 1e-4 * abs(one[key]) + 1e-6, (case, key, one[key], two[key])
        assert found["latents"] < 1e-5, (case, found["latents"])  # The chains, after 2 iterations of Langevin.
        for name, difference in found["weights"].items():
            if "deconv" in name and name.endswith("bias") and not name.endswith("deconv3/bias"):
                # Biases followed by the batch normalisation: their true gradient is zero (the normalisation removes
                # them), so Adam turns float noise into ±lr steps that differ between any two summation orders and
                # never reach the videos (as in the dynamic generator's test). Every other weight must agree.
                continue
            assert difference < 1e-5, (case, name, difference)
        assert found["recovered"] < 1e-4 and found["synthesised"] < 1e-4, case
    assert "divisible by 2" in measured["refused"]
