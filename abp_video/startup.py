"""TensorFlow imported without its native start-up lines, for the command line and the API.

TensorFlow 2.21's C++ libraries write, at import, absl's "All log messages before absl::InitializeLog()" note, the
oneDNN notice, the CUDA-stub notice and the CPU-feature note (each library once: six lines, twice over), whatever
TF_CPP_MIN_LOG_LEVEL says. They carry nothing a user acts on, so they are held back; any other line the import
writes still reaches stderr.
"""

import os
import re
import sys
import tempfile

# Which of TensorFlow's start-up lines to hold back.
NOISE = re.compile(r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
                   r"|[IW]\d{4} [\d:. ]+\d+ (port|cudart_stub|cpu_feature_guard|cuda_executor|cuda_dnn|cuda_fft"
                   r"|cuda_blas)\.cc:\d+\]"
                   r"|To enable the following instructions: .* in other operations, rebuild TensorFlow")


def set_environment():
    """TF's own log threshold, and oneDNN's CPU kernels on (yours win if set): TensorFlow turns them on by itself
    only on CPUs with AVX-512 VNNI/BF16 or AMX; on an AVX2-only AMD EPYC its other kernels ran the texture quick
    preset 4.8x slower (docs/speed.md)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


def import_tensorflow_quietly():
    """Imports TensorFlow (once) with its start-up lines held back; returns the module."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    set_environment()
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # No file descriptor 2 (some notebook kernels): import as is.
        import tensorflow
        return tensorflow
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode("utf-8", "replace")
    kept = [line for line in text.splitlines() if line.strip() and not NOISE.search(line)]
    if kept:
        print("\n".join(kept), file=sys.stderr)
    return tensorflow
