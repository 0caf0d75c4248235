"""Peak memory of `--mode sample` by synthesis length, streamed and not (not a test; docs/texture.md "Endless synthesis").

    python benchmarks/stream_memory.py                                   # stream 1k / 100k, whole 1k / 5k
    python benchmarks/stream_memory.py --stream_frames 1000,20000 --whole_frames 1000

Trains (once, kept in --workdir) a quick-preset texture run for one iteration — the weights do not matter for
memory, the network does (64x64 frames, 6 deconvolutions, chunks of 30) — then runs each case as its own
`python main.py --mode sample` subprocess and reads that child's own peak RSS from os.wait4. Prints a Markdown
table and writes benchmarks/results/stream_memory.json.
"""

import argparse
import json
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _child(args):
    """Runs `python main.py args` and returns (seconds, peak RSS in MB, return code, stderr tail)."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, os.path.join(REPO, "main.py"), *args], cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - start, usage.ru_maxrss / 1024.0, process.returncode, stderr[-2000:]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default=os.path.join(REPO, "checkpoints", "benchmark", "stream_quick"))
    parser.add_argument("--stream_frames", default="1000,100000")
    parser.add_argument("--whole_frames", default="1000,5000")
    parser.add_argument("--num_samples", type=int, default=1)
    args = parser.parse_args()
    if not os.path.isfile(os.path.join(args.workdir, "ckpt", "checkpoint")):
        seconds, rss, code, stderr = _child(["--preset", "quick", "--workdir", args.workdir, "--iterations", "1"])
        if code:
            sys.exit(f"training the benchmark run failed:\n{stderr}")
    cases = [("stream", int(n)) for n in args.stream_frames.split(",") if n]
    cases += [("whole", int(n)) for n in args.whole_frames.split(",") if n]
    rows = []
    for kind, frames in cases:
        flags = ["--mode", "sample", "--workdir", args.workdir, "--num_frames", str(frames),
                 "--num_samples", str(args.num_samples), "--sample_seed", "1"]
        seconds, rss, code, stderr = _child(flags + (["--stream"] if kind == "stream" else []))
        if code:
            sys.exit(f"{kind} {frames} failed:\n{stderr}")
        rows.append(dict(kind=kind, num_frames=frames, num_samples=args.num_samples, seconds=seconds,
                         peak_rss_mb=rss, frames_per_second=frames * args.num_samples / seconds))
        print(f"{kind} {frames}: {seconds:.1f} s, peak RSS {rss:.0f} MB", flush=True)
    lines = ["| mode | frames | peak RSS MB | wall s | frames/s |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {'`--stream`' if r['kind'] == 'stream' else 'whole clip (GIF + MP4 + strip)'} | {r['num_frames']} "
              f"| {r['peak_rss_mb']:.0f} | {r['seconds']:.1f} | {r['frames_per_second']:.0f} |" for r in rows]
    print("\n" + "\n".join(lines))
    os.makedirs(os.path.join(REPO, "benchmarks", "results"), exist_ok=True)
    with open(os.path.join(REPO, "benchmarks", "results", "stream_memory.json"), "w") as handle:
        json.dump({"rows": rows, "markdown": "\n".join(lines)}, handle, indent=2)


if __name__ == "__main__":
    main()
