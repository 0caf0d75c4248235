"""Langevin inference of latent variables, shared by both models: plain (the papers') and Metropolis-adjusted (TFP)."""

import tensorflow as tf


def langevin_update(latents, gradients, step_size, noises):
    """One Langevin step for every latent tensor.

    Eq. (4) of AAAI'19 / WACV'19: z <- z - δ²/2 · ∂E(z)/∂z + δ · e, e ~ N(0, I), where the energy E already holds
    the prior term ||z||²/2, so the authors' `z - δ²/2 (z + ∂L/∂z) + δ e` is the same update.

    Args:
      latents: list of tensors z.
      gradients: list of ∂E/∂z, same shapes.
      step_size: δ.
      noises: list of standard normal tensors, same shapes.

    Returns:
      list of updated tensors.
    """
    return [z - 0.5 * step_size ** 2 * g + step_size * e for z, g, e in zip(latents, gradients, noises)]


def energy_and_gradients(energy_fn, latents):
    """Sum over chains of energy_fn(*latents) (shape [chains]) and its gradient with respect to every latent."""
    with tf.GradientTape() as tape:
        tape.watch(latents)
        energies = energy_fn(*latents)
        total = tf.reduce_sum(energies)
    return energies, tape.gradient(total, latents)


def langevin_sample(energy_fn, latents, step_size, num_steps, generator=None, noises=None, unroll=False):
    """Runs `num_steps` Langevin steps from `latents` (a warm start) in one graph loop.

    One backward pass per step serves every latent (the authors' code made one per latent tensor).

    Args:
      energy_fn: callable(*latents) -> energies [chains]; each chain's energy depends only on its own latents,
        so the gradient of the sum is each chain's own gradient.
      latents: list of float tensors, the chains' starting points.
      step_size: δ (Python float or scalar tensor).
      num_steps: l.
      generator: a `tf.random.Generator`, so that runs are repeatable and resumable; or
      noises: the standard normal draws of every step, drawn beforehand: one tensor per latent,
        [chains, num_steps, ...]. Drawn per chain, they make a run sharded over devices draw what one device would.
      unroll: a Python loop instead of the graph loop: a step sharded over replicas synchronises inside the energy
        (cross-replica normalisation statistics), which MirroredStrategy does not allow inside a `tf.while_loop`.

    Returns:
      (list of final latents, energies [chains] at the last starting point of a step).
    """
    latents = [tf.convert_to_tensor(z) for z in latents]

    def body(step, energies, *current):
        current = list(current)
        energies, gradients = energy_and_gradients(energy_fn, current)
        if noises is None:
            draws = [generator.normal(tf.shape(z)) for z in current]
        else:
            draws = [tf.gather(noise, step, axis=1) for noise in noises]
        return (step + 1, energies, *langevin_update(current, gradients, step_size, draws))

    if num_steps == 0:
        return latents, energy_fn(*latents)
    if unroll:
        step, energies, current = 0, None, latents
        for _ in range(num_steps):
            step, energies, *current = body(step, energies, *current)
        return current, energies
    num_chains = tf.shape(latents[0])[0]
    loop_vars = (tf.constant(0), tf.zeros([num_chains]), *latents)
    _, energies, *final = tf.while_loop(lambda step, *_: step < num_steps, body, loop_vars)
    return final, energies


def mala_sample(energy_fn, latents, step_size, num_steps, generator):
    """Langevin with a Metropolis-Hastings correction per step (§2.2 of AAAI'19), via TFP's MALA kernel.

    TFP's proposal is x + step/2 · ∇log p + sqrt(step) · e, so its `step_size` is δ² in the papers' notation.
    Each leading index (clip / segment) is a separate chain with its own accept/reject.

    Returns:
      (list of final latents, mean acceptance rate over steps and chains).
    """
    import tensorflow_probability as tfp  # Here, not at the top: it adds ~60 MB of RSS to every run that loads it.

    latents = [tf.convert_to_tensor(z) for z in latents]
    kernel = tfp.mcmc.MetropolisAdjustedLangevinAlgorithm(
        target_log_prob_fn=lambda *z: -energy_fn(*z), step_size=step_size ** 2)
    results = kernel.bootstrap_results(latents)
    seed = generator.uniform_full_int([2], dtype=tf.int32)

    def body(step, accepted, seed, current, results):
        step_seed, seed = tfp.random.split_seed(seed)
        current, results = kernel.one_step(current, results, seed=step_seed)
        return step + 1, accepted + tf.reduce_mean(tf.cast(results.is_accepted, tf.float32)), seed, current, results

    _, accepted, _, final, _ = tf.while_loop(
        lambda step, *_: step < num_steps, body, (tf.constant(0), tf.constant(0.0), seed, latents, results))
    return list(final), accepted / max(num_steps, 1)
