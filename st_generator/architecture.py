"""The spatial-temporal generator's layer layout as numbers (no TensorFlow): Models 1-3, output sizes."""

# WACV'19 §4.1: Model-1 is fully convolutional (stationary in space and time); Model-2 is stationary in time only
# (its latent is a 1x1xT0 sequence); Model-3 is non-stationary (one latent vector per clip).
MODEL_KINDS = (1, 2, 3)


def layer_specs(model, filters, first_kernel_time):
    """(filters, kernel (t, h, w), strides (t, h, w), padding) per generator layer.

    Model-1: every layer 4x4x4, stride 2, 'same'. Model-2 / Model-3: layer 1 is a 'valid' 4x4xk_t kernel at stride 1
    (1x1 -> 4x4 in space; k_t = 1 for Model-2, which keeps T0 frames), layer 2 a 'same' 7x7x7 kernel at stride 1,
    every later layer 4x4x4 at stride 2 'same'. The paper's Model-3 has k_t = 1, which makes only 16 frames from a
    1x1x1 latent with four stride-2 layers; we use k_t = 2 (as the 3D GAN it follows, Vondrick et al. 2016, whose
    first layer is 2x4x4) so that it makes the 32-frame segments it is trained on.
    """
    if model == 1:
        return [(f, (4, 4, 4), (2, 2, 2), "same") for f in filters]
    specs = [(filters[0], (first_kernel_time, 4, 4), (1, 1, 1), "valid"),
             (filters[1], (7, 7, 7), (1, 1, 1), "same")]
    return specs + [(f, (4, 4, 4), (2, 2, 2), "same") for f in filters[2:]]


def output_shape(model, filters, first_kernel_time, latent_shape):
    """(frames, height, width) generated from a latent grid `latent_shape` = (t, h, w)."""
    shape = list(latent_shape)
    for _, kernel, strides, padding in layer_specs(model, filters, first_kernel_time):
        shape = [size * stride if padding == "same" else (size - 1) * stride + k
                 for size, k, stride in zip(shape, kernel, strides)]
    return tuple(shape)


def audio_length(num_layers, stride, top_length=0):
    """Samples the audio generator makes from its 1-sample input: stride ** layers ('same' padding), or
    top_length * stride ** (layers - 1) with a `top_length` first layer."""
    return (top_length or stride) * stride ** (num_layers - 1)
