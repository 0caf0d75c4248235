"""Shapes and parameter counts of the dynamic generator's networks."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from dynamic_generator import configs
from dynamic_generator.models import EMISSION_NETWORKS, DynamicGenerator, EmissionModel, FrameNormalization, \
    TransitionModel


def _conv_transpose_params(filters, kernels, inputs):
    count, channels = 0, inputs
    for filters_out, kernel in zip(filters, kernels):
        count += kernel * kernel * channels * filters_out + filters_out
        channels = filters_out
    return count


@pytest.mark.parametrize("size", sorted(EMISSION_NETWORKS))
def test_emission_network_shapes_and_parameters(size):
    filters, kernels, strides = EMISSION_NETWORKS[size]
    model = EmissionModel(filters, kernels, strides)
    frames = model(tf.random.normal([2, 3, 100]))
    assert frames.shape == (2, 3, size, size, 3)
    assert np.all(np.abs(frames.numpy()) < 1.0)
    # Deconvolution weights + biases, plus one β per normalised channel (no γ, as the authors ran BN).
    expected = _conv_transpose_params(filters, kernels, 100) + sum(filters[:-1])
    assert model.count_params() == expected


def test_paper_texture_model_parameter_count():
    config = configs.TEXTURE_PAPER
    model = DynamicGenerator(config)
    model.build_all()
    transition = (200 * 20 + 20) + (20 * 20 + 20) + (20 * 100 + 100)  # MLP {20, 20, 100} on [ξ, s].
    emission = _conv_transpose_params(config.emission_filters, config.emission_kernels, 100) + (512 + 512 + 256 + 128 + 64)
    assert model.transition.count_params() == transition
    assert model.emission.count_params() == emission


def test_transition_unroll_shapes_and_residual_form():
    transition = TransitionModel(state_dim=4, kind="linear")
    noise = tf.random.normal([2, 5, 3])
    initial = tf.random.normal([2, 4]) * 0.1
    states, last = transition.unroll(noise, initial)
    assert states.shape == (2, 5, 4) and last.shape == (2, 4)
    np.testing.assert_allclose(states[:, -1], last)
    # With zero weights the transition is s_t = tanh(s_{t-1}) (the residual form of §4.1).
    for variable in transition.trainable_variables:
        variable.assign(tf.zeros_like(variable))
    states, _ = transition.unroll(noise, initial)
    np.testing.assert_allclose(states[:, 0], np.tanh(initial.numpy()), rtol=1e-6)


def test_frame_normalization_uses_batch_statistics_per_group():
    layer = FrameNormalization()
    inputs = tf.random.normal([6, 4, 4, 2]) * 3.0 + tf.constant([1.0, -5.0])
    outputs = layer(inputs).numpy()
    np.testing.assert_allclose(outputs.mean(axis=(0, 1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(outputs.var(axis=(0, 1, 2)), 1.0, rtol=1e-2)
    grouped = layer(inputs, num_groups=2).numpy().reshape(2, 3, 4, 4, 2)
    np.testing.assert_allclose(grouped.mean(axis=(1, 2, 3)), 0.0, atol=1e-5)
    # Groups are independent: the first group's output does not depend on the second group's frames.
    changed = tf.concat([inputs[:3], inputs[3:] * 10.0], axis=0)
    np.testing.assert_allclose(layer(changed, num_groups=2).numpy()[:3], grouped.reshape(6, 4, 4, 2)[:3], rtol=1e-5)


def test_config_validation_names_the_problem():
    with pytest.raises(ValueError, match="multiple of --chunk_length"):
        configs.DynamicGeneratorConfig(num_frames=50).validate()
    with pytest.raises(ValueError, match="image_size"):
        configs.DynamicGeneratorConfig(image_size=100).validate()
    with pytest.raises(ValueError, match="energy_scale"):
        configs.DynamicGeneratorConfig(energy_scale="mean").validate()
    assert configs.with_image_size(configs.TEXTURE_PAPER, 150).validate().emission_strides == (2, 2, 2, 2, 3, 3, 1)


def test_frame_normalization_keeps_bfloat16_activations():
    layer = FrameNormalization()
    inputs = tf.random.normal([6, 4, 4, 2]) * 3.0 + tf.constant([1.0, -5.0])
    layer(inputs)
    layer.beta.assign([0.25, -0.5])
    outputs = layer(tf.cast(inputs, tf.bfloat16))
    assert outputs.dtype == tf.bfloat16  # No float32 copy of the activations...
    # ... with the statistics and β of the float32 computation, up to bfloat16 rounding of inputs and outputs.
    np.testing.assert_allclose(tf.cast(outputs, tf.float32).numpy(), layer(inputs).numpy(), atol=0.05)
    # The grouped path computes in float32.
    assert layer(tf.cast(inputs, tf.bfloat16), num_groups=2).dtype == tf.float32


def test_mixed_precision_emission_follows_float32():
    keras.utils.set_random_seed(0)
    filters, kernels, strides = (64, 32, 16, 3), (4,) * 4, (2,) * 4
    exact = EmissionModel(filters, kernels, strides, init_std=0.05)
    mixed = EmissionModel(filters, kernels, strides, init_std=0.05, mixed_precision=True)
    states = tf.random.normal([2, 5, 10])
    exact(states), mixed(states)
    mixed.set_weights(exact.get_weights())
    assert all(weight.dtype == tf.float32 for weight in mixed.weights)

    def frames_and_input_gradient(model):
        with tf.GradientTape() as tape:
            tape.watch(states)
            frames = model(states)
            energy = tf.reduce_sum(tf.square(frames - 0.3))
        return frames, tape.gradient(energy, states)

    frames, gradient = frames_and_input_gradient(exact)
    mixed_frames, mixed_gradient = frames_and_input_gradient(mixed)
    assert mixed_frames.dtype == tf.float32 and mixed_gradient.dtype == tf.float32
    # bfloat16 keeps 8 significant bits: frames within ~0.01 (RMS 0.0015 measured), input-gradients within
    # 5-10% over seeds, as before the activations stayed bfloat16 through the normalisation.
    assert np.sqrt(np.mean(np.square(mixed_frames.numpy() - frames.numpy()))) < 0.005
    relative = np.linalg.norm(mixed_gradient.numpy() - gradient.numpy()) / np.linalg.norm(gradient.numpy())
    assert relative < 0.2
