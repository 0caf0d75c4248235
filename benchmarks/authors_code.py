#!/usr/bin/env python3
"""Time the authors' own TF1 code (github.com/jianwen-xie/Dynamic_generator) on this machine, beside ours.

Their code is TF1 / Python 2 and does not run as published; this script runs it unchanged in what it computes
(same graph, sess.run calls, feeds, Langevin steps, per-epoch outputs) under Python 3 + TensorFlow 2 through
`tf.compat.v1`, by a short list of programmatic source transformations applied to a temporary copy (each asserts
its exact number of matches, so a different checkout fails loudly). The list is printed and saved in the JSON.
None of their code is part of this repository: give a checkout of theirs.

    git clone https://github.com/jianwen-xie/Dynamic_generator /tmp/Dynamic_generator
    python benchmarks/authors_code.py --authors_code /tmp/Dynamic_generator --preset recovery --iterations 7 \
        --out /tmp/authors_recovery.json
    python benchmarks/benchmark.py --authors_code /tmp/Dynamic_generator   # theirs and ours, side by side

Presets: `texture` = their main_dyn_G.py defaults on the fire clip (64x64, 60 frames, chunks of 30, 15 Langevin
steps); `recovery` = main_dyn_G_recovery.py defaults on the fountain clip with their region_type.mat mask
(150x150, 70 frames, one chunk). Each epoch (= one of our iterations) is timed around the whole loop body,
including their own image and checkpoint writing; the first 2 epochs are warm-up. Peak RSS is the process's.
Data come from `--data_root` (default ../shared/data/trainingVideo beside the repository).
"""
import argparse
import hashlib
import io
import json
import os
import re
import resource
import runpy
import shutil
import statistics
import sys
import tempfile
import time
import traceback

from authors_code_shims import FFMPEG_STUB, PROGRESSBAR_STUB, TF1_SHIMS, TIMING_SHIM, install_scipy_misc_shim

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA_ROOT = os.path.join(os.path.dirname(REPO), 'shared', 'data', 'trainingVideo')

# Each preset: the authors' main script, and its flags with {data} = --data_root (every other flag stays at the
# main script's own default).
PRESETS = {
    # main_dyn_G.py defaults: 64x64, num_frames 60, truncated_backprop_length 30 (2 chunks),
    # sample_steps 15, step_size 0.03, refsig 1, lr 0.002, beta1 0.5, state/z 100, nonlinear
    # dynamics, frame generator "64", training_mode complete, log_step 10, category fire.
    'texture': ('main_dyn_G.py', ['--category=fire', '--data_path={data}/dynamicTexture']),
    # main_dyn_G_recovery.py defaults: 150x150, num_frames 70, truncated_backprop_length 70
    # (1 chunk), sample_steps 15, refsig 0.5, frame generator "150", training_mode incomplete.
    # Category/mask: fountain with the external region mask (region_type.mat).
    'recovery': ('main_dyn_G_recovery.py', [
        '--category=fountain', '--data_path={data}/recovery_dataset/data', '--mask_path={data}/recovery_dataset/mask',
        '--mask_type=external', '--mask_file=region_type.mat']),
}


CHANGES = []   # filled while transforming; printed at start and saved to the JSON


def note(msg):
    CHANGES.append(msg)


# --------------------------------------------------------------------------------------
# Source transformations (applied to the temp copy only).  Every substitution asserts the
# exact number of matches expected in the authors' files, so a different checkout fails
# loudly instead of silently running something else.
# --------------------------------------------------------------------------------------
def sub(path, pattern, repl, count_expected, desc, flags=re.M):
    with open(path) as f:
        src = f.read()
    new, n = re.subn(pattern, repl, src, flags=flags)
    if count_expected is not None and n != count_expected:
        raise RuntimeError('%s: expected %d match(es) of %r, found %d' % (path, count_expected, pattern, n))
    if n:
        with open(path, 'w') as f:
            f.write(new)
        note('%s: %s (%d occurrence%s)' % (os.path.relpath(path, CODE_DIR), desc, n, '' if n == 1 else 's'))
    return n


def transform_sources(code_dir):
    dg = os.path.join(code_dir, 'src', 'dynamic_generator.py')
    ops = os.path.join(code_dir, 'src', 'ops.py')
    util = os.path.join(code_dir, 'src', 'util.py')
    main_t = os.path.join(code_dir, 'main_dyn_G.py')
    main_r = os.path.join(code_dir, 'main_dyn_G_recovery.py')

    # 1. TF1 API via tf.compat.v1 (tf.disable_v2_behavior() is called by the harness before
    #    any authors' module is imported: graph mode, sessions, placeholders, ref variables,
    #    v1 while_loop control flow).
    for p in (dg, ops, main_t, main_r):
        sub(p, r'^import tensorflow as tf$', 'import tensorflow.compat.v1 as tf', 1,
            '`import tensorflow as tf` -> `import tensorflow.compat.v1 as tf`')

    # 2. Python 2 implicit relative imports inside src/ -> explicit relative imports
    #    (what 2to3's fix_import does; same modules are imported).
    sub(dg, r'^from ops import \*$', 'from .ops import *', 1, '`from ops import *` -> `from .ops import *` (py2 implicit relative import)')
    sub(dg, r'^from util import \*$', 'from .util import *', 1, '`from util import *` -> `from .util import *` (py2 implicit relative import)')

    # 3. Per-epoch wall-clock timing hook: the epoch loop iterator is replaced by a range that
    #    records perf_counter between successive next() calls (= the full epoch body incl. all
    #    sess.run calls, prints, image/checkpoint/video writing). No other behaviour change.
    sub(dg, r'for epoch in xrange\(self\.num_epochs\):',
        'for epoch in _dg_harness_timing.timed_range(self.num_epochs):', 2,
        'epoch loop `xrange(self.num_epochs)` -> `_dg_harness_timing.timed_range(self.num_epochs)` (timing hook; yields 0..N-1 like range)')
    sub(dg, r'^import time$', 'import time\nimport _dg_harness_timing', 1,
        'added `import _dg_harness_timing` after `import time`')

    # 4. Python 2 builtin xrange -> range (all remaining uses).
    sub(dg, r'\bxrange\(', 'range(', None, '`xrange(` -> `range(`')

    # 5. tf.contrib (removed in TF2) -> shims with identical defaults/semantics.
    sub(dg, r'^(import tensorflow\.compat\.v1 as tf)$', r'\1\nimport _dg_harness_tf1_shims', 1,
        'added `import _dg_harness_tf1_shims` after the tf import')
    sub(dg, r'tf\.contrib\.layers\.batch_norm\(', '_dg_harness_tf1_shims.contrib_layers_batch_norm(', None,
        '`tf.contrib.layers.batch_norm(` -> `_dg_harness_tf1_shims.contrib_layers_batch_norm(` '
        '(re-implementation of contrib defaults: center=True, scale=False, decay=0.999, epsilon=0.001, '
        'is_training=True -> tf.nn.fused_batch_norm with batch statistics over N,H,W like contrib\'s fused '
        'tf.layers.BatchNormalization path; variables dyn_gen/BatchNorm[_k]/{beta,moving_mean,moving_variance} '
        'with the same names/reuse; moving-average assign ops are created and put in UPDATE_OPS but, as in the '
        'original, never run)')
    sub(dg, r'tf\.contrib\.metrics\.streaming_mean_squared_error\(', '_dg_harness_tf1_shims.streaming_mean_squared_error(', 1,
        '`tf.contrib.metrics.streaming_mean_squared_error(predictions, labels)` -> '
        '`tf.metrics.mean_squared_error(predictions=..., labels=...)` (via shim, keyword args keep the contrib argument order)')
    sub(dg, r'tf\.contrib\.metrics\.streaming_mean\(', '_dg_harness_tf1_shims.streaming_mean(', 1,
        '`tf.contrib.metrics.streaming_mean(values)` -> `tf.metrics.mean(values)` (via shim)')

    # 6. absl (TF>=1.5 flags) refuses DEFINE_string with an int default; these two flags are
    #    testing-only (unused in training). main_dyn_G.py already uses DEFINE_integer for them.
    sub(main_r, r"tf\.flags\.DEFINE_string\('(num_sections_in_test|num_batches_in_test)', (\d+),",
        r"tf.flags.DEFINE_integer('\1', \2,", 2,
        "DEFINE_string('num_sections_in_test'/'num_batches_in_test', <int>) -> DEFINE_integer "
        "(absl raises IllegalFlagValueError otherwise; testing-only flags)")

    # 7. The same two flags in the other stored version of main_dyn_G.py (commit 335128d), whose `ckpt_name` flag
    #    also lacks its help text (absl requires one); absent from commit 0f94e46 (0 matches there).
    sub(main_t, r"tf\.flags\.DEFINE_string\('(num_sections_in_test|num_batches_in_test)', (\d+),",
        r"tf.flags.DEFINE_integer('\1', \2,", None,
        "DEFINE_string('num_sections_in_test'/'num_batches_in_test', <int>) -> DEFINE_integer (testing-only flags)")
    sub(main_t, r"tf\.flags\.DEFINE_string\('ckpt_name', '([^']*)'\)", r"tf.flags.DEFINE_string('ckpt_name', '\1', '')",
        None, "DEFINE_string('ckpt_name', <default>) -> help text '' added (testing-only flag)")

    # Sanity: nothing from TF1-only namespaces left.
    for p in (dg, ops, util, main_t, main_r):
        s = open(p).read()
        assert 'tf.contrib' not in s, p
        assert 'xrange' not in s, p


# --------------------------------------------------------------------------------------
class Tee(io.TextIOBase):
    def __init__(self, stream):
        self.stream = stream
        self.buf = []

    def write(self, s):
        self.stream.write(s)
        self.buf.append(s)
        return len(s)

    def flush(self):
        self.stream.flush()

    def text(self):
        return ''.join(self.buf)


EPOCH_RE = re.compile(r'Epoch #(\d+) of #\d+, batch #(\d+) of #\d+, truncation #(\d+) of #(\d+), '
                      r'dynamic generator loss: (\S+), Avg MSE: (\S+), time: (\S+)s')
REC_RE = re.compile(r'Recovery Error: #(\S+) in scale of \[0,255\]/pixel')


def parse_metrics(text):
    per_epoch = {}
    for m in EPOCH_RE.finditer(text):
        e = int(m.group(1))
        d = per_epoch.setdefault(e, {'epoch': e, 'truncations': []})
        d['truncations'].append({'batch': int(m.group(2)), 'truncation': int(m.group(3)),
                                 'dyn_gen_loss_running_mean': float(m.group(5)),
                                 'avg_mse_running_mean': float(m.group(6)),
                                 'printed_time_s': float(m.group(7))})
    recs = [float(x) for x in REC_RE.findall(text)]
    out = []
    for k, e in enumerate(sorted(per_epoch)):
        d = per_epoch[e]
        d['printed_truncation_time_sum_s'] = round(sum(t['printed_time_s'] for t in d['truncations']), 4)
        d['avg_mse_running_mean_end'] = d['truncations'][-1]['avg_mse_running_mean']
        d['dyn_gen_loss_running_mean_end'] = d['truncations'][-1]['dyn_gen_loss_running_mean']
        if k < len(recs):
            d['recovery_error_0_255'] = recs[k]
        out.append(d)
    return out


def main():
    global CODE_DIR
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--authors_code', required=True, help='checkout/copy of jianwen-xie/Dynamic_generator')
    ap.add_argument('--preset', required=True, choices=sorted(PRESETS))
    ap.add_argument('--iterations', type=int, required=True, help='number of training epochs (num_epochs)')
    ap.add_argument('--out', required=True, help='output JSON path')
    ap.add_argument('--workdir', default=None, help='temp dir (default: new dir under $TMPDIR)')
    ap.add_argument('--keep', action='store_true', help='keep the temp dir (outputs) afterwards')
    ap.add_argument('--data_root', default=DATA_ROOT, help='the authors\' trainingVideo folder')
    args = ap.parse_args()
    data_root = os.path.abspath(args.data_root)
    missing = [name for name in ('main_dyn_G.py', 'main_dyn_G_recovery.py', 'src/dynamic_generator.py')
               if not os.path.isfile(os.path.join(args.authors_code, name))]
    if missing:
        sys.exit('error: --authors_code %s is not a checkout of jianwen-xie/Dynamic_generator (no %s); clone it with '
                 '`git clone https://github.com/jianwen-xie/Dynamic_generator`' % (args.authors_code, ', '.join(missing)))
    if not os.path.isdir(data_root):
        sys.exit('error: no data at --data_root %s; give the folder holding dynamicTexture/ and recovery_dataset/'
                 % data_root)

    preset = PRESETS[args.preset]
    work = os.path.abspath(args.workdir or tempfile.mkdtemp(prefix='dg_authors_%s_' % args.preset))
    os.makedirs(work, exist_ok=True)
    CODE_DIR = os.path.join(work, 'code')
    shims = os.path.join(work, 'shims')
    bindir = os.path.join(work, 'bin')
    out_json = os.path.abspath(args.out)

    src_root = os.path.abspath(args.authors_code)
    files = ['main_dyn_G.py', 'main_dyn_G_recovery.py', 'src/dynamic_generator.py', 'src/ops.py', 'src/util.py']
    orig_sha = {f: hashlib.sha256(open(os.path.join(src_root, f), 'rb').read()).hexdigest() for f in files}
    shutil.copytree(src_root, CODE_DIR, ignore=shutil.ignore_patterns('.git', '__pycache__', 'output*'))
    note('copied %s -> %s (original directory untouched)' % (src_root, CODE_DIR))

    transform_sources(CODE_DIR)

    os.makedirs(shims, exist_ok=True)
    with open(os.path.join(shims, '_dg_harness_timing.py'), 'w') as f:
        f.write(TIMING_SHIM)
    with open(os.path.join(shims, '_dg_harness_tf1_shims.py'), 'w') as f:
        f.write(TF1_SHIMS)
    sys.path.insert(0, shims)
    import importlib.util
    if importlib.util.find_spec('progressbar') is None:
        with open(os.path.join(shims, 'progressbar.py'), 'w') as f:
            f.write(PROGRESSBAR_STUB)
        note('progressbar package not installed: added a stub module exposing ETA, Bar, Percentage, ProgressBar '
             '(imported by dynamic_generator.py but never used)')

    if shutil.which('ffmpeg') is None:
        os.makedirs(bindir, exist_ok=True)
        p = os.path.join(bindir, 'ffmpeg')
        with open(p, 'w') as f:
            f.write(FFMPEG_STUB % {'python': sys.executable})
        os.chmod(p, 0o755)
        os.environ['PATH'] = bindir + os.pathsep + os.environ.get('PATH', '')
        note('no ffmpeg binary on this machine: put a PyAV-based `ffmpeg` stand-in first on PATH that implements '
             'the two command lines util.py runs via subprocess: video -> %03d.png frames (numbered from 1, one PNG '
             'per decoded frame, RGB24, full resolution) and %03d.png -> mpeg4 AVI at -r fps (200 kb/s). It is a '
             'separate process (its RSS is not in peak_rss_gb). Called before training (frame extraction, '
             'saveSampleImageFrames) and in-loop only at epoch%20==0 (saveSampleVideo: epoch 0 -> warm-up)')
    else:
        note('using the real ffmpeg at %s' % shutil.which('ffmpeg'))

    added = install_scipy_misc_shim()
    if added:
        import scipy
        note('runtime shim: scipy.misc.{%s} re-created (SciPy 1.1 semantics; imsave bytescales float arrays '
             'by their min/max and saves with PIL) because SciPy %s no longer has them; imresize is not used by '
             'the authors\' code' % (', '.join(added), scipy.__version__))

    note('harness: tf.disable_v2_behavior() called before importing the authors\' modules; main script run with '
         'runpy as __main__ from the temp copy (cwd = copy root) with sys.argv = flags of the preset')
    note('kept unchanged: tf.gfile.* (tf.compat.v1.gfile still provides Exists/DeleteRecursively/MakeDirs), '
         'tf.app.flags/tf.flags (absl-backed, auto-parses sys.argv), np.bool (present again in NumPy 2), '
         'PIL Image.BILINEAR resize in getTrainingData, all sess.run calls/feeds, Langevin steps, '
         'per-epoch image/checkpoint/.dat/video writing at the authors\' log_step/20-epoch cadence')

    main_script, preset_flags = preset
    flags = [flag.format(data=data_root) for flag in preset_flags] + [
        '--output_dir=%s/output_%s' % (work, args.preset), '--num_epochs=%d' % args.iterations]
    argv = [os.path.join(CODE_DIR, main_script)] + flags

    banner = 'CHANGES (source transformations / shims):\n' + '\n'.join('  - ' + c for c in CHANGES)
    print(banner, flush=True)
    print('command: %s' % ' '.join(argv), flush=True)

    import tensorflow.compat.v1 as tf
    tf.disable_v2_behavior()
    import numpy, scipy, PIL, av
    versions = dict(python=sys.version.split()[0], tensorflow=tf.__version__ if hasattr(tf, '__version__') else None,
                    numpy=numpy.__version__, scipy=scipy.__version__, pillow=PIL.__version__, av=av.__version__)
    import tensorflow
    versions['tensorflow'] = tensorflow.__version__

    import _dg_harness_timing as timing

    os.chdir(CODE_DIR)
    sys.path.insert(0, CODE_DIR)
    sys.argv = argv
    tee = Tee(sys.stdout)
    sys.stdout = tee
    t_start = time.perf_counter()
    error = None
    try:
        runpy.run_path(argv[0], run_name='__main__')
    except SystemExit as e:
        if e.code not in (0, None):
            error = 'SystemExit(%r)' % (e.code,)
    except BaseException:
        error = traceback.format_exc()
    finally:
        sys.stdout = tee.stream
    total = time.perf_counter() - t_start
    if error:
        print(error, file=sys.stderr)

    it = [round(x, 4) for x in timing.epoch_seconds]
    after = it[2:]
    after_unlogged = [x for k, x in enumerate(it) if k >= 2 and k % 10 != 0]  # Epochs 10, 20, ... also save.
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    per_epoch = parse_metrics(tee.text())
    result = {
        'preset': args.preset,
        'iterations': it,
        'median_after_warmup': round(statistics.median(after), 4) if after else None,
        'mean_after_warmup': round(statistics.mean(after), 4) if after else None,
        'median_after_warmup_excluding_logging_epochs': (round(statistics.median(after_unlogged), 4)
                                                         if after_unlogged else None),
        'peak_rss_gb': round(peak_kb / 1024.0 / 1024.0, 3),
        'peak_rss_gb_after_each_epoch': [round(k / 1024.0 / 1024.0, 3) for k in timing.epoch_end_rss_kb],
        'metrics': {
            'per_epoch': per_epoch,
            'final_avg_mse_running_mean': per_epoch[-1]['avg_mse_running_mean_end'] if per_epoch else None,
            'final_recovery_error_0_255': per_epoch[-1].get('recovery_error_0_255') if per_epoch else None,
            'notes': 'Avg MSE and loss are the authors\' tf.metrics streaming means (never reset: running mean '
                     'over all truncations so far; MSE on tanh scale [-1,1] against the (masked) observed '
                     'frames). Recovery Error = mean |recon-GT| over masked pixels, x255/2. printed_time_s is the '
                     'authors\' own per-truncation timer (excludes per-epoch image/checkpoint writing).',
        },
        'changes': CHANGES,
        'command': ' '.join(argv),
        'harness_command': ' '.join([sys.executable] + [a for a in sys.orig_argv[1:]]) if hasattr(sys, 'orig_argv') else None,
        'authors_code': src_root,
        'authors_sha256': orig_sha,
        'versions': versions,
        'total_wall_s': round(total, 2),
        'workdir': work,
        'error': error,
        'note_iterations': 'wall-clock seconds of each epoch of the authors\' training loop (texture: 2 truncations '
                           'of 30 frames; recovery: 1 truncation of 70 frames), including the authors\' per-epoch '
                           'output writing; epochs 0 and 10 (and 20, ...) include their log_step=10 sample image + '
                           'checkpoint save, epoch 0 also saveSampleVideo (every 20 epochs).',
    }
    os.makedirs(os.path.dirname(out_json) or '.', exist_ok=True)
    with open(out_json, 'w') as f:
        json.dump(result, f, indent=1)
    print('[harness] iterations (s):', it)
    print('[harness] median_after_warmup: %s s, peak RSS %.3f GB, total %.1f s -> %s'
          % (result['median_after_warmup'], result['peak_rss_gb'], total, out_json))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if error else 0)


if __name__ == '__main__':
    main()
