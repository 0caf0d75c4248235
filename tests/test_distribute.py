"""tf.distribute: a mirrored run over 2 logical CPUs equals the one-device run on the same clips and seed."""

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Runs in a fresh process: logical devices must be configured before TensorFlow initialises its devices.
SCRIPT = r"""
import dataclasses, json, os, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from data import sources
from dynamic_generator import configs
from dynamic_generator.train import Trainer

config = dataclasses.replace(configs.ACTION_TINY, batch_size=4)
clips = sources.load_clips("synthetic:actions", config.num_frames, config.image_size, 0)[:8]
observed = np.stack([clip.frames for clip in clips])
runs = {}
for strategy in ("default", "mirrored"):
    trainer = Trainer(dataclasses.replace(config, strategy=strategy), observed)
    losses = [trainer.train_iteration()["loss"] for _ in range(2)]
    runs[strategy] = dict(replicas=trainer.num_replicas, losses=losses,
                          weights={w.path.split("/", 1)[1]: w.numpy() for w in trainer.model.weights},
                          latents={name: getattr(trainer.latents, name).numpy()
                                   for name in ("noise", "initial_state", "appearance", "motion")})
one, two = runs["default"], runs["mirrored"]
try:
    Trainer(dataclasses.replace(config, batch_size=3, strategy="mirrored"), observed[:6])
    refused = ""
except ValueError as error:
    refused = str(error)
print("RESULT " + json.dumps({
    "replicas": [one["replicas"], two["replicas"]], "losses": [one["losses"], two["losses"]],
    "weights": {name: float(np.abs(value - two["weights"][name]).max()) for name, value in one["weights"].items()},
    "latents": {name: float(np.abs(value - two["latents"][name]).max()) for name, value in one["latents"].items()},
    "refused": refused}))
"""


def test_mirrored_run_equals_one_device_run():
    result = subprocess.run([sys.executable, "-c", SCRIPT, REPO], capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert result.returncode == 0 and lines, result.stderr[-3000:]
    measured = json.loads(lines[-1][len("RESULT "):])
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
