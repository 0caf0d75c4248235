"""What the command line's flags are, without TensorFlow: the modes' options and every config setting with its help.

main.py defines its flags from these and checks them before TensorFlow is imported; abp_video.api resolves them.
"""

import dataclasses
import sys

from abp_video import configs
from dynamic_generator.configs import SYNTHESIS_BURN_IN, SYNTHESIS_STARTS, DynamicGeneratorConfig
from st_generator.configs import MultimodalConfig, STConfig

DEFAULT_EXPERIMENT, DEFAULT_PRESET = "texture", "quick"
# The config classes of every experiment (a test checks them against the registry).
CONFIG_CLASSES = (DynamicGeneratorConfig, STConfig, MultimodalConfig)


@dataclasses.dataclass(frozen=True)
class Option:
    """A value a mode reads that is not a config setting (each mode declares which, registry.Mode.options)."""
    kind: str  # integer, float, string, bool, list or enum
    default: object
    help: str
    choices: tuple = ()


OPTIONS = {
    "num_samples": Option("integer", 3, "--mode sample / animate: how many clips to synthesise."),
    "burn_in": Option("integer", None, "--mode sample, --experiment texture_eval: frames generated and dropped before "
                      f"the ones kept (§4.1); default {SYNTHESIS_BURN_IN} after a random s_0, 0 after the inferred one."),
    "synthesis_start": Option("enum", SYNTHESIS_STARTS[0], "--mode sample, --experiment texture_eval: s_0 of a new "
                              "clip, `random` from N(0, I) (§4.1) or `inferred`, the training clip's (the authors' "
                              "test code).", SYNTHESIS_STARTS),
    "sample_seed": Option("integer", 0, "--mode sample / animate / interpolate: seed of the sampling noise."),
    "inference_iterations": Option("integer", 100, "--mode recover_new / infer (and held-out clips of --experiment "
                                   "action): Langevin sweeps over the new clips, weights frozen."),
    "table_methods": Option("list", None, "--mode table: the methods (columns) of the table; recover: dg, stgcn, "
                            "mrf_l1, mrf_l2, lhd, linear; st_recover: abp, li_abp, vae, ws, gan (default all)."),
    "table_cases": Option("list", None, "--experiment recover --mode table: keep only these rows, named "
                          "<clip>_<mask> (e.g. fountain_region; default all)."),
    "table_stages": Option("list", None, "--experiment st_recover --mode table: test (Table 2), train (Table 3) or "
                           "both (default)."),
    "baseline_iterations": Option("integer", 2000, "--experiment st_recover --mode table: iterations of the VAE, "
                                  "wake-sleep and GAN runs (4x ABP's 500: wake-sleep's training curve is flat by "
                                  "then, the VAE's falls as slowly as ABP's; docs/st_recover.md); 0 = ABP's "
                                  "--iterations."),
    "clips": Option("list", None, "--experiment interpolate: the two training clips whose appearances are "
                    "interpolated (names as in the run's clips.json)."),
    "steps": Option("integer", 5, "--experiment interpolate: videos from the first appearance to the second."),
    "image": Option("string", None, "--experiment animate --mode animate: the image file to animate."),
    "stream": Option("bool", False, "--mode sample: write one MP4 chunk by chunk as frames are synthesised, with "
                     "memory that does not grow with --num_frames (no GIF, no strip)."),
    "export_dir": Option("string", None, "--mode export: a new folder for the SavedModel of the run in --workdir."),
    "lds_state_dim": Option("integer", 0, "--method lds: state dimension d; 0 chooses it from the explained "
                            "variance (abp_video/baselines/lds.py)."),
    "lds_noise_dim": Option("integer", 0, "--method lds: driving-noise dimension n_v; 0 chooses it from the "
                            "residual's singular values."),
    "worker_timeout": Option("float", 120.0, "--strategy multi_worker: seconds to wait for every worker to start "
                             "and answer before giving up (docs/distribute.md)."),
    "mocogan_iterations": Option("integer", None, "--experiment texture_eval: MoCoGAN's iterations per clip (its "
                                 "rows of the table; 0 leaves them out; default texture_eval.MOCOGAN_ITERATIONS)."),
}
# Options every mode accepts (they are checked where they apply, not per mode).
GENERAL_OPTIONS = ("worker_timeout",)
# Earlier names of options, still accepted with a warning: {old: new}.
RENAMED_OPTIONS = {"methods": "table_methods", "stages": "table_stages"}


def setting_types():
    """{setting name: type} over every experiment's config class (one flag each in main.py)."""
    types = {}
    for config_class in CONFIG_CLASSES:
        for name, field in configs.setting_fields(config_class).items():
            if name in ("experiment", "preset"):
                continue
            if name in types and types[name] is not field.type:
                raise TypeError(f"setting {name!r} has two types across the configs")
            types[name] = field.type
    return types


SETTINGS = setting_types()



def setting_help(experiment, name):
    """The help of setting `name` for `experiment` (an Experiment or a config class): its model's SETTING_HELP."""
    config_class = getattr(experiment, "config_class", experiment)
    return getattr(sys.modules[config_class.__module__], "SETTING_HELP", {}).get(name, "")


def flag_help(name):
    """The help of setting `name`'s flag: its text in every model that has it."""
    texts = sorted({setting_help(config_class, name) for config_class in CONFIG_CLASSES} - {""})
    return " / ".join(texts) + " Default: the preset's (python main.py --experiment NAME --help)."
