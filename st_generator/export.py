"""The spatial-temporal generator's sampler as a `tf.Module` for SavedModel export (st_synthesis, st_interpolate,
st_recover runs; Model-1, -2 and -3).

  generate(num_samples: int32, seed: int64) -> uint8 [num_samples, frames, H, W, 3]
  = `STGeneratorTrainer.synthesize(num_samples, seed, grid=config.synthesis_grid or None)`, to uint8 as data.video_io does.

Z ~ N(0, I) on the run's synthesis grid (`synthesis_grid`: Model-1 larger and longer, Model-2 longer; else the
training grid) comes from `tf.random.stateless_normal` with the seed pair (seed, 0), the function the training code
samples with (abp_video/sampling.py), so an export equals the run's own sampler bit for bit. Normalisation
statistics are per sample when the run learned one segment at a time, else over the samples together, as there.
The variable `latent_grid` holds the grid (t, h, w), `per_sample_normalization` the choice.
"""

import tensorflow as tf

from abp_video import sampling
from st_generator import restore

SCALAR = tf.TensorSpec([], tf.int32)
SEED = tf.TensorSpec([], tf.int64)


class GeneratorSampler(tf.Module):
    """G_W and the run's synthesis grid: `generate(num_samples, seed)`.

    The weights are tracked as a list: a Keras 3 model attribute would bring its own serving function into the
    SavedModel.
    """

    def __init__(self, trainer):
        super().__init__(name="st_generator_sampler")
        config, model = trainer.config, trainer.model
        grid = tuple(config.synthesis_grid or config.latent_grid)
        per_sample = trainer.per_sample_normalization
        self.weights = list(model.weights)
        self.latent_grid = tf.Variable(grid, trainable=False, name="latent_grid")
        self.per_sample_normalization = tf.Variable(per_sample, trainable=False, name="per_sample_normalization")

        def generate(num_samples, seed):
            tf.debugging.assert_positive(num_samples, message="num_samples must be positive")
            latents = sampling.chunk_noise(seed, 0, tf.stack([num_samples, *grid, config.latent_channels]))
            if per_sample:
                # STGeneratorTrainer.synthesize passes the sample count as a Python int: 1 takes the fused normalisation kernel.
                videos = tf.cond(num_samples == 1, lambda: model(latents, num_groups=1),
                                 lambda: model(latents, num_groups=num_samples))
            else:
                videos = model(latents, num_groups=1)
            return sampling.to_uint8(videos)

        self.generate = tf.function(generate, input_signature=[SCALAR, SEED])

    def signatures(self):
        return {"generate": self.generate}


def export_generator(run, stored):
    """`Experiment.export` hook of st_synthesis, st_interpolate and st_recover: (module, signatures, files)."""
    module = GeneratorSampler(restore.restore_trainer(run.path)[1])
    return module, module.signatures(), []
