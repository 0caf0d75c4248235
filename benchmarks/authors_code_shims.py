"""The shim modules benchmarks/authors_code.py puts first on the authors' sys.path, so that their TF1 / Python 2 code
runs unchanged in what it computes under Python 3 and TensorFlow 2 (`tf.compat.v1`)."""

TIMING_SHIM = '''
import time, resource
epoch_seconds = []
epoch_end_rss_kb = []
def timed_range(n):
    for e in range(n):
        t0 = time.perf_counter()
        yield e
        epoch_seconds.append(time.perf_counter() - t0)
        epoch_end_rss_kb.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        print('[harness] epoch %d wall-clock %.3f s' % (e + 1, epoch_seconds[-1]), flush=True)
'''

TF1_SHIMS = '''
"""Replacements for tf.contrib pieces used by the authors' code (TF1 semantics)."""
import tensorflow.compat.v1 as tf


def contrib_layers_batch_norm(inputs, decay=0.999, center=True, scale=False, epsilon=0.001,
                              activation_fn=None, is_training=True, reuse=None, trainable=True,
                              scope=None):
    """tf.contrib.layers.batch_norm with its default arguments (fused, NHWC, updates_collections=
    UPDATE_OPS).  contrib routes this case to tf.layers.BatchNormalization(fused=True), i.e. a
    FusedBatchNorm op using the batch mean/variance over axes [0,1,2] when training."""
    if is_training is not True:
        raise NotImplementedError('only is_training=True is used by the authors')
    with tf.variable_scope(scope, 'BatchNorm', [inputs], reuse=reuse):
        inputs = tf.convert_to_tensor(inputs)
        dtype = inputs.dtype.base_dtype
        params_shape = inputs.get_shape()[-1:]
        if center:
            beta = tf.get_variable('beta', shape=params_shape, dtype=dtype,
                                   initializer=tf.zeros_initializer(), trainable=trainable)
        else:
            beta = tf.constant(0.0, dtype=dtype, shape=params_shape)
        if scale:
            gamma = tf.get_variable('gamma', shape=params_shape, dtype=dtype,
                                    initializer=tf.ones_initializer(), trainable=trainable)
        else:
            gamma = tf.constant(1.0, dtype=dtype, shape=params_shape)
        moving_mean = tf.get_variable('moving_mean', shape=params_shape, dtype=dtype,
                                      initializer=tf.zeros_initializer(), trainable=False)
        moving_variance = tf.get_variable('moving_variance', shape=params_shape, dtype=dtype,
                                          initializer=tf.ones_initializer(), trainable=False)
        outputs, batch_mean, batch_variance = tf.nn.fused_batch_norm(
            inputs, gamma, beta, epsilon=epsilon, data_format='NHWC', is_training=True)
        # Moving-average updates go to UPDATE_OPS (never run by the authors' code).
        upd_mean = tf.assign_sub(moving_mean, (moving_mean - batch_mean) * (1.0 - decay))
        upd_var = tf.assign_sub(moving_variance, (moving_variance - batch_variance) * (1.0 - decay))
        tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, upd_mean)
        tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, upd_var)
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return outputs


def streaming_mean(values, weights=None, metrics_collections=None, updates_collections=None, name=None):
    return tf.metrics.mean(values=values, weights=weights, metrics_collections=metrics_collections,
                           updates_collections=updates_collections, name=name)


def streaming_mean_squared_error(predictions, labels, weights=None, metrics_collections=None,
                                 updates_collections=None, name=None):
    return tf.metrics.mean_squared_error(predictions=predictions, labels=labels, weights=weights,
                                         metrics_collections=metrics_collections,
                                         updates_collections=updates_collections, name=name)
'''

PROGRESSBAR_STUB = '''
"""Tiny stand-in for the `progressbar` package: the authors import ETA, Bar, Percentage,
ProgressBar from it but never use them."""
class _W(object):
    def __init__(self, *a, **k): pass
class ETA(_W): pass
class Bar(_W): pass
class Percentage(_W): pass
class ProgressBar(_W):
    def start(self): return self
    def update(self, *a, **k): pass
    def finish(self): pass
    def __call__(self, it): return it
'''

# Stand-in for the `ffmpeg` command line the authors call through subprocess(shell=True):
#   ffmpeg -loglevel L -i VIDEO OUTDIR/%03d.png                             (decode to PNG frames)
#   ffmpeg -loglevel L -r FPS -i DIR/%03d.png -vcodec mpeg4 -y DIR/sample.avi (encode PNGs)
FFMPEG_STUB = '''#!%(python)s
"""PyAV implementation of the two ffmpeg command lines used by the authors' util.py
(installed on PATH only because no ffmpeg binary exists on this machine)."""
import os, sys
import av
from PIL import Image

args = sys.argv[1:]
opts, i = {}, 0
while i < len(args) - 1:
    if args[i] in ('-loglevel', '-i', '-r', '-vcodec'):
        opts[args[i]] = args[i + 1]; i += 2
    elif args[i] == '-y':
        i += 1
    else:
        break
out = args[-1]
inp = opts['-i']
if '%%' in inp:  # image sequence -> video
    frames = []
    k = 0  # image2 demuxer: start_number 0, probes the first existing index in 0..4 (authors' frames start at 000)
    for start in range(0, 5):
        if os.path.exists(inp %% start):
            k = start; break
    while os.path.exists(inp %% k):
        frames.append(inp %% k); k += 1
    if not frames:
        sys.exit(1)
    fps = int(float(opts.get('-r', 25)))
    first = Image.open(frames[0]).convert('RGB')
    with av.open(out, 'w') as oc:
        st = oc.add_stream(opts.get('-vcodec', 'mpeg4'), rate=fps)
        st.width, st.height = first.size
        st.pix_fmt = 'yuv420p'
        st.bit_rate = 200000  # ffmpeg's default for mpeg4
        for f in frames:
            vf = av.VideoFrame.from_image(Image.open(f).convert('RGB'))
            for pkt in st.encode(vf):
                oc.mux(pkt)
        for pkt in st.encode():
            oc.mux(pkt)
else:  # video -> numbered PNG frames (image2 muxer numbering starts at 1, passthrough sync)
    with av.open(inp) as ic:
        for n, frame in enumerate(ic.decode(video=0), start=1):
            frame.to_image().save(out %% n)
'''


def install_scipy_misc_shim():
    """scipy.misc.imsave/imread were removed from SciPy (>=1.2/1.3); re-create them exactly as
    in SciPy 1.1 (imsave = toimage(arr, channel_axis=2).save(): bytescale to [0,255] using the
    array's own min/max, +0.5 then truncation to uint8; imread = PIL open + convert(mode)).

    Returns:
      the names re-created (empty when this SciPy still has them).
    """
    import numpy as np
    import scipy
    import scipy.misc
    from PIL import Image
    added = []

    def bytescale(data, cmin=None, cmax=None, high=255, low=0):
        if data.dtype == np.uint8:
            return data
        if cmin is None:
            cmin = data.min()
        if cmax is None:
            cmax = data.max()
        cscale = cmax - cmin
        if cscale < 0:
            raise ValueError('`cmax` should be larger than `cmin`.')
        elif cscale == 0:
            cscale = 1
        scale = float(high - low) / cscale
        bytedata = (data - cmin) * scale + low
        return (bytedata.clip(low, high) + 0.5).astype(np.uint8)

    def toimage(arr, channel_axis=None):
        data = np.asarray(arr)
        shape = list(data.shape)
        if len(shape) == 2:
            bytedata = bytescale(data)
            return Image.frombytes('L', (shape[1], shape[0]), bytedata.tobytes())
        if len(shape) != 3 or not (3 in shape or 4 in shape):
            raise ValueError("'arr' does not have a suitable array shape for any mode.")
        ca = channel_axis if channel_axis is not None else int(np.flatnonzero(np.asarray(shape) == (3 if 3 in shape else 4))[0])
        numch = shape[ca]
        bytedata = bytescale(data)
        if ca == 2:
            strdata, size = bytedata.tobytes(), (shape[1], shape[0])
        elif ca == 1:
            strdata, size = np.transpose(bytedata, (0, 2, 1)).tobytes(), (shape[2], shape[0])
        else:
            strdata, size = np.transpose(bytedata, (1, 2, 0)).tobytes(), (shape[2], shape[1])
        return Image.frombytes('RGB' if numch == 3 else 'RGBA', size, strdata)

    def imsave(name, arr, format=None):
        im = toimage(arr, channel_axis=2)
        if format is None:
            im.save(name)
        else:
            im.save(name, format)

    def imread(name, flatten=False, mode=None):
        im = Image.open(name)
        if mode is not None:
            im = im.convert(mode)
        elif flatten:
            im = im.convert('F')
        return np.array(im)

    for nm, fn in (('imsave', imsave), ('imread', imread), ('toimage', toimage), ('bytescale', bytescale)):
        if not hasattr(scipy.misc, nm):
            setattr(scipy.misc, nm, fn)
            added.append(nm)
    return added
