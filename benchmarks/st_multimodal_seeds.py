"""Table 4 over several seeds (not a test): ours, CCA, the training mean and the oracle, mean ± std, beside the paper.

    python benchmarks/st_multimodal_seeds.py --seeds 1,2,3 --workdir checkpoints/st_multimodal_seeds

Each seed is one `python main.py --experiment st_multimodal --seed S` run in `<workdir>/seed<S>` (any further
`main.py` flags after `--`); finished runs are read back, missing ones are run, interrupted ones resume. A seed
changes the synthetic set, the speaker split, the weights' initialisation and the Langevin noise. Prints, per seed
and as mean ± std over seeds, the error of the `all` row (every test utterance) for V→A (waveform and per-frame
loudness) and A→V, then the paper's mean over its ten phrases (OuluVS), and writes it to `<workdir>/seeds.json`.
"""

import os
import subprocess
import sys

import numpy as np
from absl import app, flags

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from abp_video import runs  # noqa: E402
from st_generator import paper  # noqa: E402
from st_generator.experiments.multimodal import METHOD_NAMES  # noqa: E402

flags.DEFINE_list("seeds", ["1", "2", "3"], "Seeds.")
flags.DEFINE_string("workdir", os.path.join(REPO, "checkpoints", "st_multimodal_seeds"), "Root of the runs.")
FLAGS = flags.FLAGS

DIRECTIONS = (("v2a", "V→A"), ("v2a_loudness", "V→A loudness"), ("a2v", "A→V"))


def run(seed, extra):
    workdir = os.path.join(FLAGS.workdir, f"seed{seed}")
    if "all_v2a_ours" not in runs.RunDirectory(workdir).read_metrics():  # Not run, or not evaluated yet.
        subprocess.run([sys.executable, os.path.join(REPO, "main.py"), "--experiment", "st_multimodal", "--seed",
                        str(seed), "--workdir", workdir, *extra], check=True)
    return runs.RunDirectory(workdir).read_metrics()


def main(argv):
    extra = argv[1:]  # After `--`: more main.py flags, the same for every seed.
    found = {seed: run(seed, extra) for seed in FLAGS.seeds}
    methods = [method for method in METHOD_NAMES if f"all_v2a_{method}" in found[FLAGS.seeds[0]]]
    columns = [(f"{key}_{method}", f"{shown} {METHOD_NAMES[method]}") for key, shown in DIRECTIONS
               for method in methods]
    values = {key: [found[seed][f"all_{key}"] for seed in FLAGS.seeds] for key, _ in columns}
    lines = ["| seed | " + " | ".join(shown for _, shown in columns) + " |", "|" + " --- |" * (1 + len(columns))]
    for index, seed in enumerate(FLAGS.seeds):
        lines.append(f"| {seed} | " + " | ".join(f"{values[key][index]:.4f}" for key, _ in columns) + " |")
    lines.append("| mean ± std | " + " | ".join(f"{np.mean(values[key]):.4f} ± {np.std(values[key]):.4f}"
                                             for key, _ in columns) + " |")
    paper_means = {key: float(np.mean([row[key] for row in paper.TABLE_4.values()])) for key in
                   next(iter(paper.TABLE_4.values()))}
    lines.append("| paper (OuluVS, mean of its 10 phrases) | " + " | ".join(
        f"{paper_means[key]:.4f}" if key in paper_means else "–" for key, _ in columns) + " |")
    timing = [f"seed {seed}: {found[seed].get('iterations')} iterations, "
              f"{found[seed].get('seconds_per_iteration', float('nan')):.2f} s/iteration" for seed in FLAGS.seeds]
    table = "\n".join(lines)
    print(table + "\n\n" + "; ".join(timing))
    runs.write_json_atomic(os.path.join(FLAGS.workdir, "seeds.json"),
                           dict(seeds=FLAGS.seeds, extra_flags=extra, values=values, paper_means=paper_means,
                                markdown=table, metrics=found))
    print(f"wrote {os.path.join(FLAGS.workdir, 'seeds.json')}")


if __name__ == "__main__":
    app.run(main)
