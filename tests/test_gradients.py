"""The tape's gradients equal AAAI'19 Eq. (7)-(9) written out by hand (back-propagation through time)."""

import dataclasses

import numpy as np
import tensorflow as tf

from dynamic_generator import configs
from dynamic_generator.models import TransitionModel
from dynamic_generator.train import reconstruction_weight


def test_tape_matches_hand_derived_bptt():
    rng = np.random.default_rng(0)
    batch, time, state_dim, noise_dim, pixels = 1, 5, 3, 2, 4
    config = dataclasses.replace(configs.TEXTURE_PAPER, chunk_length=time, sigma=0.8)
    weight = reconstruction_weight(config, batch)
    transition = TransitionModel(state_dim, kind="linear", init_std=0.5)
    noise = tf.constant(rng.normal(size=(batch, time, noise_dim)), tf.float32)
    initial = tf.constant(rng.normal(size=(batch, state_dim)) * 0.5, tf.float32)
    transition.unroll(noise, initial)
    emission = rng.normal(size=(pixels, state_dim)).astype(np.float32)  # A linear G_β(s) = A s.
    observed = rng.normal(size=(time, pixels)).astype(np.float32)

    with tf.GradientTape() as tape:
        tape.watch([noise, initial])
        states, _ = transition.unroll(noise, initial)
        frames = tf.einsum("ps,bts->btp", emission, states)
        energy = (weight * tf.reduce_sum((observed[None] - frames) ** 2)
                  + 0.5 * tf.reduce_sum(noise ** 2) + 0.5 * tf.reduce_sum(initial ** 2))
    kernel = transition.residual.kernel
    grad_noise, grad_initial, grad_kernel = tape.gradient(energy, [noise, initial, kernel])

    # By hand. s_t = tanh(u_t), u_t = s_{t-1} + W_ξᵀ ξ_t + W_sᵀ s_{t-1} + b (kernel rows: [ξ, s]).
    w = kernel.numpy()
    w_noise, w_state = w[:noise_dim], w[noise_dim:]
    xi, s0 = noise.numpy()[0], initial.numpy()[0]
    s = states.numpy()[0]
    previous = np.vstack([s0, s[:-1]])
    # Eq. (7): ∂E/∂s_t from frame t alone: -2·weight·Aᵀ(x_t - A s_t).
    direct = -2 * weight * (observed - s @ emission.T) @ emission
    # Eq. (9): λ_t = ∂E/∂u_t sums the direct term and everything later frames send back through F_α.
    lam = np.zeros((time, state_dim))
    carry = np.zeros(state_dim)
    for t in reversed(range(time)):
        lam[t] = (direct[t] + carry) * (1 - s[t] ** 2)
        carry = lam[t] @ (np.eye(state_dim) + w_state.T)
    hand_noise = xi + lam @ w_noise.T
    hand_initial = s0 + lam[0] @ (np.eye(state_dim) + w_state.T)
    # Eq. (8): the parameter gradient sums over time the outer products of inputs and λ_t.
    hand_kernel = np.concatenate([xi, previous], axis=1).T @ lam

    np.testing.assert_allclose(grad_noise.numpy()[0], hand_noise, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(grad_initial.numpy()[0], hand_initial, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(grad_kernel.numpy(), hand_kernel, rtol=1e-4, atol=1e-5)
    # The first noise vector hears from every frame: zeroing the later residuals changes its gradient.
    assert not np.allclose(hand_noise[0], xi[0] + ((direct[0] * (1 - s[0] ** 2)) @ w_noise.T))


def test_energy_scales():
    paper = configs.TEXTURE_PAPER
    assert paper.energy_scale == "sum" and reconstruction_weight(paper, 3) == 0.5
    assert reconstruction_weight(dataclasses.replace(paper, energy_scale="authors"), 1) == 1.0 / (2 * 30)
    assert reconstruction_weight(dataclasses.replace(paper, energy_scale="sum", sigma=0.5), 4) == 2.0
