"""Model-3 ABP iterations with and without the cropped 7x7x7 kernel, interleaved in one process (not a test).

    python benchmarks/st_cropped_kernel.py [--segments 4] [--repeats 3]

`st_generator/models.CroppedConv3DTranspose` convolves with the kernel taps that can meet the input only; this runs
the same paper-preset iteration with Keras's full Conv3DTranspose call beside it and prints a Markdown table.
"""

import argparse
import os
import statistics
import sys
import time
import types

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # As main.py: oneDNN's kernels on every x86 CPU.


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import keras
    import numpy as np
    from st_generator import configs
    from st_generator.train import STGeneratorTrainer

    segments = np.random.default_rng(0).uniform(-1, 1, (args.segments, 32, 64, 64, 3)).astype(np.float32)
    trainers = {"full kernel (Keras Conv3DTranspose)": STGeneratorTrainer(configs.RECOVER_PAPER, segments),
                "cropped kernel (ours)": STGeneratorTrainer(configs.RECOVER_PAPER, segments)}
    for layer in trainers["full kernel (Keras Conv3DTranspose)"].model.deconvolutions:
        layer.call = types.MethodType(keras.layers.Conv3DTranspose.call, layer)
    durations = {name: [] for name in trainers}
    for trainer in trainers.values():
        trainer.train_iteration()  # Tracing.
    for _ in range(args.repeats):
        for name, trainer in trainers.items():  # Interleaved, so that a change in load hits both.
            start = time.perf_counter()
            trainer.train_iteration()
            durations[name].append(time.perf_counter() - start)
    print(f"| Model-3 paper preset, {args.segments} segments | s/iteration (median of {args.repeats}) |")
    print("| --- | --- |")
    for name, values in durations.items():
        print(f"| {name} | {statistics.median(values):.2f} |")


if __name__ == "__main__":
    main()
