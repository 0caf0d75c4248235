"""The dynamic generator's samplers as `tf.Module`s for SavedModel export: one per kind of run.

Texture, recover and inpaint runs (`TextureSampler`; all integer inputs are scalars):
  generate(num_frames: int32, num_samples: int32, seed: int64) -> uint8 [num_samples, num_frames, H, W, 3]
      (AAAI'19 §4.1: s_0 ~ N(0, I) from `seed`, the variable `burn_in` (configs.SYNTHESIS_BURN_IN) frames dropped)
  generate_after_burn_in(num_frames, num_samples, seed, burn_in: int32) -> the same after `burn_in` dropped frames
  generate_from_inferred_state(num_frames, num_samples, seed, burn_in) -> the same from the training clip's
      inferred s_0 (the authors' start)
  random_start(num_samples: int32, seed: int64) -> {"state": float32 [num_samples, state_dim]}   (s_0 ~ N(0, I))
  start(num_samples: int32) -> {"state": ...}   (the inferred s_0, repeated)
  next_chunk(state: float32 [n, state_dim], seed: int64, chunk: int32)
      -> {"frames": uint8 [n, chunk_length, H, W, 3], "state": the chunk's last state}
      (chunk k of the stream of `seed`: random_start (or start), then next_chunk(k = 0, 1, ...) synthesises
      without end; drop the first `burn_in` frames after random_start)
  = `DynamicGeneratorTrainer.synthesize(num_samples, num_frames, seed, **train.synthesis_start(start, burn_in))`.

Action runs (`ActionSampler`):
  generate(num_frames: int32, seed: int64, appearance: float32 [n, appearance_dim](, motion: float32 [n, motion_dim]))
      -> uint8 [n, num_frames, H, W, 3]: new motions for the given appearance (and motion-type) vectors, s_0 from
      N(0, I), the n videos generated together (normalisation statistics over the batch, as in training)
  = `DynamicGeneratorTrainer.synthesize(n, num_frames, seed, random_initial_state=True, appearance=..., motion=..., num_groups=1)`;
  the training clips' vectors are in the variables `appearances` and `motions` (rows in the order of
  assets.extra/clips.json).

Animate runs (`AnimateSampler`):
  animate(image: uint8 [n, H, W, 3], num_frames: int32, seed: int64) -> uint8 [n, num_frames, H, W, 3]
      (images at the run's size; each is min-max scaled to [-1, 1] as in training, encoded to [s_0, a], and
      animated beside the run's reference first frames, which share the normalisation batch and are dropped)
  = `AnimationTrainer.animate(images, num_frames, 1, seed, reference)[:, 0]` (ξ from the seed 1000 · seed).

In all of them ξ of chunk k comes from `tf.random.stateless_normal` with the seed pair (seed, k)
(abp_video/sampling.py), the function the training code samples with, so an export equals the run's own sampler.
"""

import os

import numpy as np
import tensorflow as tf

from abp_video import sampling
from dynamic_generator import restore
from dynamic_generator.animation import REFERENCE_FILE
from dynamic_generator.configs import SYNTHESIS_BURN_IN

SCALAR = tf.TensorSpec([], tf.int32)
SEED = tf.TensorSpec([], tf.int64)


def _unroll(chunk, state, seed, num_frames, burn_in, length):
    """Frames burn_in .. burn_in + num_frames of the stream `chunk(state, seed, k) -> (frames, state)`, in a graph
    loop over chunks; float32 [samples, num_frames, H, W, 3]."""
    total = burn_in + num_frames
    num_chunks = (total + length - 1) // length
    outputs = tf.TensorArray(tf.float32, size=num_chunks)

    def body(index, state, outputs):
        frames, state = chunk(state, seed, index)
        return index + 1, state, outputs.write(index, frames)

    _, _, outputs = tf.while_loop(lambda index, *_: index < num_chunks, body, (tf.constant(0), state, outputs))
    frames = outputs.stack()  # [chunks, samples, length, height, width, 3]
    shape = tf.shape(frames)
    frames = tf.reshape(tf.transpose(frames, [1, 0, 2, 3, 4, 5]),
                        tf.concat([[shape[1], shape[0] * shape[2]], shape[3:]], axis=0))
    return frames[:, burn_in:total]


class _Sampler(tf.Module):
    """Common parts: the trained weights (tracked as a list: a Keras 3 model attribute would bring its own serving
    function into the SavedModel) and a few facts about the run."""

    def __init__(self, trainer, name):
        super().__init__(name=name)
        config = trainer.config
        self.weights = list(trainer.model.weights)
        self.chunk_length = tf.Variable(config.chunk_length, trainable=False, name="chunk_length")
        self.image_size = tf.Variable(config.image_size, trainable=False, name="image_size")
        self._length, self._noise_dim = config.chunk_length, config.noise_dim

    def _noise(self, seed, index, num_samples):
        return sampling.chunk_noise(seed, index, tf.stack([num_samples, self._length, self._noise_dim]))


class TextureSampler(_Sampler):
    """Texture / recover / inpaint runs: s_0 ~ N(0, I) and a burn-in (§4.1), or the inferred s_0 of clip
    `clip_index`; the clip vectors of clip `clip_index`."""

    def __init__(self, trainer, clip_index=0):
        super().__init__(trainer, "dynamic_generator_sampler")
        model, state_dim = trainer.model, trainer.config.state_dim
        self.burn_in = tf.Variable(SYNTHESIS_BURN_IN, trainable=False, name="burn_in")
        self.initial_state = tf.Variable(trainer.latents.initial_state[clip_index:clip_index + 1],
                                         trainable=False, name="initial_state")
        self.clip_vectors = {name: tf.Variable(value[clip_index:clip_index + 1], trainable=False, name=name)
                             for name, value in trainer.latents.clip_vectors().items()}

        def chunk(state, seed, index):
            num_samples = tf.shape(state)[0]
            noise = self._noise(seed, index, num_samples)
            vectors = {name: tf.repeat(value, num_samples, axis=0) for name, value in self.clip_vectors.items()}

            def generate(num_groups):
                return model(noise, state, vectors.get("appearance"), vectors.get("motion"), num_groups=num_groups)

            # DynamicGeneratorTrainer.synthesize passes the sample count as a Python int: 1 takes the fused normalisation kernel.
            return tf.cond(num_samples == 1, lambda: generate(1), lambda: generate(num_samples))

        def start(num_samples):
            tf.debugging.assert_positive(num_samples, message="num_samples must be positive")
            return {"state": tf.repeat(self.initial_state, num_samples, axis=0)}

        def random_start(num_samples, seed):
            tf.debugging.assert_positive(num_samples, message="num_samples must be positive")
            return {"state": sampling.initial_state_noise(seed, tf.stack([num_samples, state_dim]))}

        def next_chunk(state, seed, index):
            frames, last_state = chunk(state, seed, index)
            return {"frames": sampling.to_uint8(frames), "state": last_state}

        def unrolled(state, num_frames, seed, burn_in):
            tf.debugging.assert_positive(num_frames, message="num_frames must be positive")
            tf.debugging.assert_non_negative(burn_in, message="burn_in must not be negative")
            return sampling.to_uint8(_unroll(chunk, state, seed, num_frames, burn_in, self._length))

        def generate_after_burn_in(num_frames, num_samples, seed, burn_in):
            return unrolled(random_start(num_samples, seed)["state"], num_frames, seed, burn_in)

        def generate_from_inferred_state(num_frames, num_samples, seed, burn_in):
            return unrolled(start(num_samples)["state"], num_frames, seed, burn_in)

        def generate(num_frames, num_samples, seed):
            return generate_after_burn_in(num_frames, num_samples, seed, self.burn_in)

        self.generate = tf.function(generate, input_signature=[SCALAR, SCALAR, SEED])
        self.generate_after_burn_in = tf.function(generate_after_burn_in,
                                                  input_signature=[SCALAR, SCALAR, SEED, SCALAR])
        self.generate_from_inferred_state = tf.function(generate_from_inferred_state,
                                                        input_signature=[SCALAR, SCALAR, SEED, SCALAR])
        self.start = tf.function(start, input_signature=[SCALAR])
        self.random_start = tf.function(random_start, input_signature=[SCALAR, SEED])
        self.next_chunk = tf.function(next_chunk, input_signature=[tf.TensorSpec([None, state_dim], tf.float32),
                                                                   SEED, SCALAR])

    def signatures(self):
        return {"generate": self.generate, "generate_after_burn_in": self.generate_after_burn_in,
                "generate_from_inferred_state": self.generate_from_inferred_state, "start": self.start,
                "random_start": self.random_start, "next_chunk": self.next_chunk}


class ActionSampler(_Sampler):
    """Action runs: new motions for given appearance (and motion-type) vectors, s_0 ~ N(0, I)."""

    def __init__(self, trainer):
        super().__init__(trainer, "action_sampler")
        model, config = trainer.model, trainer.config
        vectors = trainer.latents.clip_vectors()
        self.appearances = tf.Variable(vectors["appearance"], trainable=False, name="appearances")
        self.motions = (tf.Variable(vectors["motion"], trainable=False, name="motions") if "motion" in vectors
                        else None)

        def generate(num_frames, seed, appearance, motion=None):
            tf.debugging.assert_positive(num_frames, message="num_frames must be positive")
            num_samples = tf.shape(appearance)[0]
            state = sampling.initial_state_noise(seed, tf.stack([num_samples, config.state_dim]))

            def chunk(state, seed, index):
                noise = self._noise(seed, index, num_samples)
                return model(noise, state, appearance, motion, num_groups=1)

            return sampling.to_uint8(_unroll(chunk, state, seed, num_frames, tf.constant(0), self._length))

        specs = [SCALAR, SEED, tf.TensorSpec([None, config.appearance_dim], tf.float32)]
        if self.motions is not None:
            specs.append(tf.TensorSpec([None, config.motion_dim], tf.float32))
            self.generate = tf.function(generate, input_signature=specs)
        else:
            self.generate = tf.function(lambda num_frames, seed, appearance: generate(num_frames, seed, appearance),
                                        input_signature=specs)

    def signatures(self):
        return {"generate": self.generate}


class AnimateSampler(_Sampler):
    """Animate runs: image -> encoder [s_0, a] -> video, beside the run's reference first frames."""

    def __init__(self, trainer, reference_images):
        super().__init__(trainer, "animate_sampler")
        model, encoder, size = trainer.model, trainer.encoder, trainer.config.image_size
        self.encoder_weights = list(encoder.weights)
        self.reference_images = tf.Variable(np.asarray(reference_images, np.float32), trainable=False,
                                            name="reference_images")

        def animate(image, num_frames, seed):
            tf.debugging.assert_positive(num_frames, message="num_frames must be positive")
            tf.debugging.assert_equal(tf.shape(image)[1:3], [size, size],
                                      message=f"images must be {size}x{size} (the run's image size)")
            frames = tf.cast(image, tf.float32)
            low = tf.reduce_min(frames, axis=[1, 2, 3], keepdims=True)
            high = tf.reduce_max(frames, axis=[1, 2, 3], keepdims=True)
            # data.video_io.normalize_frames: per image min-max to [-1, 1], a constant image to 0.
            frames = tf.where(high > low, (frames - low) / tf.maximum(high - low, 1e-8) * 2.0 - 1.0, 0.0)
            batch = tf.concat([frames, self.reference_images], axis=0)
            state, appearance = encoder(batch)
            num_images = tf.shape(image)[0]

            def chunk(state, seed, index):
                noise = self._noise(seed, index, tf.shape(batch)[0])
                return model(noise, state, appearance, None, num_groups=1)

            video = _unroll(chunk, state, seed * 1000, num_frames, tf.constant(0), self._length)
            return sampling.to_uint8(video[:num_images])

        self.animate = tf.function(animate, input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8),
                                                             SCALAR, SEED])

    def signatures(self):
        return {"animate": self.animate}


def _check_method(run, stored):
    if stored.get("method", "dg") != "dg":
        raise ValueError(f"--workdir {run.path} holds a --method {stored['method']} run, which has no generator "
                         f"network to export; export a --method dg run")


def export_texture(run, stored):
    """`Experiment.export` hook of the texture, recover and inpaint experiments: (module, signatures, files).

    The whole checkpoint is restored (`restore.restore_trainer`): the model's weights are reached through the
    optimizer's variable list, so restoring the model alone would silently load nothing.
    """
    _check_method(run, stored)
    module = TextureSampler(restore.restore_trainer(run.path)[1])
    return module, module.signatures(), []


def export_action(run, stored):
    """`Experiment.export` hook of the action experiment; the run's clips.json goes beside the SavedModel."""
    module = ActionSampler(restore.restore_trainer(run.path)[1])
    return module, module.signatures(), [os.path.join(run.path, restore.CLIPS_FILE)]


def export_animate(run, stored):
    """`Experiment.export` hook of the animate experiment (the reference first frames go into the export)."""
    reference = np.load(os.path.join(run.path, REFERENCE_FILE))
    module = AnimateSampler(restore.restore_trainer(run.path)[1], reference)
    return module, module.signatures(), [os.path.join(run.path, restore.CLIPS_FILE)]
