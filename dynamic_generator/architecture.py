"""The dynamic generator's paper networks as numbers (no TensorFlow): emission layers per frame size."""

# AAAI'19 §4.1 / §4.3 / §4.4 emission networks, as (filters, kernels, strides); a stride-1 layer is 'valid'
# (the 150x150 network ends with a 7x7 valid deconvolution 144 -> 150), every other layer 'same'.
EMISSION_NETWORKS = {
    64: ((512, 512, 256, 128, 64, 3), (4,) * 6, (2,) * 6),
    128: ((512, 512, 512, 256, 128, 64, 3), (4,) * 7, (2,) * 7),
    150: ((512, 512, 256, 128, 64, 64, 3), (4, 4, 4, 4, 4, 4, 7), (2, 2, 2, 2, 3, 3, 1)),
}


def emission_output_size(kernels, strides):
    """Frame side produced from a 1x1 input by deconvolutions with these kernels and strides."""
    size = 1
    for kernel, stride in zip(kernels, strides):
        size = size * stride if stride > 1 else (size - 1) * stride + kernel
    return size
