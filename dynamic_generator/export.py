"""The dynamic generator's sampler as a `tf.Module` for SavedModel export (texture, recover and inpaint runs).

Signatures (all integer inputs are scalars):
  generate(num_frames: int32, num_samples: int32, seed: int64)
      -> uint8 [num_samples, num_frames, height, width, 3]
  generate_after_burn_in(num_frames: int32, num_samples: int32, seed: int64, burn_in: int32)
      -> the same, after `burn_in` frames generated and dropped
  start(num_samples: int32) -> {"state": float32 [num_samples, state_dim]}   (the inferred s_0, repeated)
  next_chunk(state: float32 [num_samples, state_dim], seed: int64, chunk: int32)
      -> {"frames": uint8 [num_samples, chunk_length, height, width, 3], "state": the chunk's last state}
      (chunk k of the stream of `seed`; start → next_chunk(k = 0, 1, ...) synthesises without end)

They compute exactly what `Trainer.synthesize(num_samples, num_frames, seed, burn_in)` does: ξ of chunk k from
the stateless seed (seed, k) (sampling.py), s_t unrolled by F_α from the run's inferred s_0, frames by G_β with
normalisation statistics per sample, mapped to uint8 like `data.video_io.to_uint8`.
"""

import tensorflow as tf

from dynamic_generator import sampling


class TextureSampler(tf.Module):
    """Holds the trained weights and the inferred s_0 (and appearance) of clip `clip_index`; see the module doc."""

    def __init__(self, trainer, clip_index=0):
        super().__init__(name="dynamic_generator_sampler")
        config = trainer.config
        model = trainer.model  # Not an attribute: Keras 3 models bring their own serving function to SavedModel.
        self.weights = list(model.weights)
        self.initial_state = tf.Variable(trainer.latents.initial_state[clip_index:clip_index + 1],
                                         trainable=False, name="initial_state")
        # Appearance and motion vectors of the clip, when the model has them (Trainer.synthesize's defaults).
        self.clip_vectors = {name: tf.Variable(value[clip_index:clip_index + 1], trainable=False, name=name)
                             for name, value in trainer.latents.clip_vectors().items()}
        self.chunk_length = tf.Variable(config.chunk_length, trainable=False, name="chunk_length")
        self.image_size = tf.Variable(config.image_size, trainable=False, name="image_size")
        length, noise_dim, state_dim = config.chunk_length, config.noise_dim, config.state_dim

        def chunk(state, seed, index):
            num_samples = tf.shape(state)[0]
            noise = sampling.chunk_noise(seed, index, tf.stack([num_samples, length, noise_dim]))
            vectors = {name: tf.repeat(value, num_samples, axis=0) for name, value in self.clip_vectors.items()}

            def generate(num_groups):
                return model(noise, state, vectors.get("appearance"), vectors.get("motion"), num_groups=num_groups)

            # Trainer.synthesize passes the sample count as a Python int: 1 takes the fused normalisation kernel.
            return tf.cond(num_samples == 1, lambda: generate(1), lambda: generate(num_samples))

        def start(num_samples):
            tf.debugging.assert_positive(num_samples, message="num_samples must be positive")
            return {"state": tf.repeat(self.initial_state, num_samples, axis=0)}

        def next_chunk(state, seed, index):
            frames, last_state = chunk(state, seed, index)
            return {"frames": sampling.to_uint8(frames), "state": last_state}

        def generate_after_burn_in(num_frames, num_samples, seed, burn_in):
            tf.debugging.assert_positive(num_frames, message="num_frames must be positive")
            tf.debugging.assert_non_negative(burn_in, message="burn_in must not be negative")
            state = start(num_samples)["state"]
            total = burn_in + num_frames
            num_chunks = (total + length - 1) // length
            outputs = tf.TensorArray(tf.float32, size=num_chunks)

            def body(index, state, outputs):
                frames, state = chunk(state, seed, index)
                return index + 1, state, outputs.write(index, frames)

            _, _, outputs = tf.while_loop(lambda index, *_: index < num_chunks, body,
                                          (tf.constant(0), state, outputs))
            frames = outputs.stack()  # [chunks, samples, length, height, width, 3]
            shape = tf.shape(frames)
            frames = tf.reshape(tf.transpose(frames, [1, 0, 2, 3, 4, 5]),
                                tf.concat([[shape[1], shape[0] * shape[2]], shape[3:]], axis=0))
            return sampling.to_uint8(frames[:, burn_in:total])

        def generate(num_frames, num_samples, seed):
            return generate_after_burn_in(num_frames, num_samples, seed, tf.constant(0))

        scalar = tf.TensorSpec([], tf.int32)
        seed_spec = tf.TensorSpec([], tf.int64)
        self.generate = tf.function(generate, input_signature=[scalar, scalar, seed_spec])
        self.generate_after_burn_in = tf.function(generate_after_burn_in,
                                                  input_signature=[scalar, scalar, seed_spec, scalar])
        self.start = tf.function(start, input_signature=[scalar])
        self.next_chunk = tf.function(next_chunk, input_signature=[
            tf.TensorSpec([None, state_dim], tf.float32), seed_spec, scalar])

    def signatures(self):
        return {"generate": self.generate, "generate_after_burn_in": self.generate_after_burn_in,
                "start": self.start, "next_chunk": self.next_chunk}


def export_texture(run, stored):
    """`Experiment.export` hook of the texture, recover and inpaint experiments: (module, signatures).

    The whole checkpoint is restored (`experiments.restore_trainer`): the model's weights are reached through the
    optimizer's variable list, so restoring the model alone would silently load nothing.
    """
    from dynamic_generator.experiments import restore_trainer  # experiments.py registers this hook.

    if stored.get("method", "dg") != "dg":
        raise ValueError(f"--workdir {run.path} holds a --method {stored['method']} run, which has no generator "
                         f"network to export; export a --method dg run")
    module = TextureSampler(restore_trainer(run.path)[1])
    return module, module.signatures()
