"""Paper presets of the dynamic generator, as frozen dataclasses; variants derive with `dataclasses.replace`."""

import dataclasses

from abp_video import configs
from abp_video.configs import NORMALIZATION_STATISTICS, STRATEGIES
from dynamic_generator.architecture import EMISSION_NETWORKS, emission_output_size

ENERGY_SCALES = ("authors", "sum")
# Ways to fill occluded pixels (AAAI'19 §4.3, Table 2): the dynamic generator, its competitor
# STGCN (the CVPR'17 energy model, abp_video/baselines/stgcn.py) and abp_video/baselines/recovery.py (MRF-ℓ1/ℓ2 Gibbs, Laplacian heat
# diffusion, temporal linear interpolation).
RECOVERY_METHODS = ("dg", "stgcn", "mrf_l1", "mrf_l2", "lhd", "linear")
# §4.1 dynamic textures: the dynamic generator, the LDS of Doretto et al. 2003 (abp_video/baselines/lds.py) or MoCoGAN
# (Tulyakov et al. 2018, abp_video/baselines/mocogan.py).
TEXTURE_METHODS = ("dg", "lds", "mocogan")
# --method per experiment (any other experiment: the dynamic generator only).
METHODS = {"texture": TEXTURE_METHODS, "texture_eval": TEXTURE_METHODS, "recover": RECOVERY_METHODS,
           "inpaint": RECOVERY_METHODS}
MASK_TYPES = ("region", "missing_frames", "salt_pepper", "block")  # Generators of abp_video/data/masks.py.
# Where a synthesised clip starts (AAAI'19 §4.1: "s_0 is sampled from N(0, I)" and the first frames are burn-in):
# `random` s_0 ~ N(0, I), or `inferred`, the training clip's inferred s_0 (what the authors' test code did).
SYNTHESIS_STARTS = ("random", "inferred")
# Frames generated and dropped after a random s_0 (`--burn_in` default): where the frame statistics of samples from
# s_0 ~ N(0, I) stop drifting (benchmarks/dg_burn_in.py; docs/results/texture.md, "Burn-in").
SYNTHESIS_BURN_IN = 60
# Langevin sweeps (weights frozen) run on the training clip after the last iteration, before the reported
# reconstruction MSE: the latents of the last iteration were inferred for the weights before its Adam step, so that
# figure moves with the step (docs/results/texture.md, "Reported reconstruction error").
REFRESH_SWEEPS = 10


@dataclasses.dataclass(frozen=True)
class IncompleteConfig:
    """Learning from incomplete videos (recover / inpaint, §4.3-4.4): a mask file (.mat, .npy, PNG folder or mask
    video; empty = generate one of `mask_type`), and where the emission's normalisation statistics are taken:
    over the visible part of each frame only (`visible`), or over every position of every frame (`all`, the
    authors' batch normalisation, under which missing frames and occluded regions steer the statistics of what is
    seen; runs stored before this setting read as `all`). docs/fidelity.md."""
    mask: str = ""
    mask_type: str = "region"
    normalization_statistics: str = configs.newer_setting("visible", stored="all")

    def validate(self):
        if self.mask_type not in MASK_TYPES:
            raise ValueError(f"--mask_type must be one of {MASK_TYPES}, got {self.mask_type!r}")
        if self.normalization_statistics not in NORMALIZATION_STATISTICS:
            raise ValueError(f"--normalization_statistics must be one of {NORMALIZATION_STATISTICS}, got "
                             f"{self.normalization_statistics!r}")
        return self


@dataclasses.dataclass(frozen=True)
class ClipsConfig:
    """Many clips, one model (action / animate, §4.2, §4.5): clips per mini-batch (0 = all clips in one batch; the
    authors' `batch_size`, taken in order, one ABPTT iteration = one pass over every batch) and how many clips are
    held out from training (chosen by `seed`; their latents are inferred with the model frozen)."""
    batch_size: int = 0
    num_held_out: int = 0

    def validate(self):
        for name in ("batch_size", "num_held_out"):
            if getattr(self, name) < 0:
                raise ValueError(f"--{name} must not be negative, got {getattr(self, name)}")
        return self


@dataclasses.dataclass(frozen=True)
class EncoderConfig:
    """Animating a static image (§4.5): the encoder E_γ(x_0) -> [s_0, a], one entry per convolution."""
    encoder_filters: tuple = (64, 128, 256)
    encoder_kernels: tuple = (5, 3, 3)
    encoder_strides: tuple = (2, 2, 1)

    def validate(self):
        if not self.encoder_filters or not (len(self.encoder_filters) == len(self.encoder_kernels)
                                            == len(self.encoder_strides)):
            raise ValueError(f"--encoder_filters {self.encoder_filters}, --encoder_kernels {self.encoder_kernels} and "
                             f"--encoder_strides {self.encoder_strides} must have one entry per convolution")
        return self


@dataclasses.dataclass(frozen=True)
class DynamicGeneratorConfig:
    """AAAI'19 §4.1 dynamic texture synthesis (the `paper` preset); the other experiments add parts.

    64x64x60 frames; state 100, noise 100; transition MLP {20, 20, 100} with s_t = tanh(s_{t-1} + r_t);
    emission 6 deconvolutions {512, 512, 256, 128, 64, 3}, kernel 4, stride 2, BN + ReLU, tanh output;
    Adam lr 0.002, β1 0.5; Langevin δ = 0.03 for all latents, l = 15 steps, σ = 1; truncated BPTT with
    chunks of 30 frames; 3000 iterations. Initialisation N(0, 0.005²) deconvolutions as in the authors' code;
    the transition MLP starts at N(0, 0.05²) instead of their N(0, 0.001²), under which Adam's first steps kill
    most second-layer ReLUs and ξ stops reaching the frames. Energy: Eq. (6) exactly (`energy_scale="sum"`);
    the authors' code averaged over frames (`"authors"`), which with ξ truly inferred through F_α fits the fire
    clip worse at equal budget. Both measured in docs/fidelity.md.

    Parts (None where the experiment has none): `incomplete` (recover, inpaint), `clips` (action, animate),
    `encoder` (animate).
    """
    experiment: str = "texture"
    preset: str = "paper"
    data: str = "synthetic:fire"
    seed: int = 1

    # Data.
    image_size: int = 64
    num_frames: int = 60
    chunk_length: int = 30

    # Model.
    state_dim: int = 100
    noise_dim: int = 100
    appearance_dim: int = 0  # a^(i) per clip at the emission input (§2.3, Eq. 11); 0 = none.
    motion_dim: int = 0  # m^(i) per clip at the transition input (§2.3); 0 = none.
    transition: str = "nonlinear"
    transition_hidden_units: tuple = (20, 20)
    transition_init_std: float = 0.05
    emission_filters: tuple = EMISSION_NETWORKS[64][0]
    emission_kernels: tuple = EMISSION_NETWORKS[64][1]
    emission_strides: tuple = EMISSION_NETWORKS[64][2]
    emission_init_std: float = 0.005
    mixed_precision: bool = False  # bfloat16 transposed convolutions (an option for speed; off in the presets).

    # Inference (Langevin, Eq. 4) and learning (Eq. 5).
    sigma: float = 1.0
    energy_scale: str = "sum"
    langevin_step_size: float = 0.03
    num_langevin_steps: int = 15
    metropolis: bool = False
    learning_rate: float = 0.002
    adam_beta1: float = 0.5
    num_iterations: int = 3000

    # The method that learns the clip or fills its occluded pixels (METHODS per experiment).
    method: str = "dg"

    incomplete: IncompleteConfig = configs.part(IncompleteConfig)
    clips: ClipsConfig = configs.part(ClipsConfig)
    encoder: EncoderConfig = configs.part(EncoderConfig)

    # Where the learning steps run (abp_video/distribute.py): `default` (one device), `mirrored` (local GPUs, or
    # logical CPUs), `multi_worker` (TF_CONFIG). The clips of a batch are shared out among the replicas.
    strategy: str = "default"

    # Run bookkeeping.
    log_every: int = 10
    sample_every: int = 100
    checkpoint_every: int = 50
    num_output_samples: int = 2

    def validate(self):
        """Raises ValueError with a sentence a user understands when the config cannot run."""
        positive = ("image_size", "num_frames", "chunk_length", "state_dim", "noise_dim", "num_langevin_steps",
                    "num_iterations", "log_every", "sample_every", "checkpoint_every", "num_output_samples")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"--{name} must be positive, got {getattr(self, name)}")
        for name in ("appearance_dim", "motion_dim"):
            if getattr(self, name) < 0:
                raise ValueError(f"--{name} must not be negative, got {getattr(self, name)}")
        for name in ("sigma", "langevin_step_size", "learning_rate"):
            if getattr(self, name) <= 0:
                raise ValueError(f"--{name} must be positive, got {getattr(self, name)}")
        if self.num_frames % self.chunk_length:
            raise ValueError(f"--num_frames ({self.num_frames}) must be a multiple of --chunk_length "
                             f"({self.chunk_length}): the clip is processed in whole chunks")
        if self.energy_scale not in ENERGY_SCALES:
            raise ValueError(f"--energy_scale must be one of {ENERGY_SCALES}, got {self.energy_scale!r}")
        for part in (self.incomplete, self.clips, self.encoder):
            if part is not None:
                part.validate()
        if self.encoder is not None and not self.appearance_dim:
            raise ValueError("the encoder maps x_0 to an appearance vector: --appearance_dim must be positive "
                             "(the animate presets use 100)")
        methods = METHODS.get(self.experiment, ("dg",))
        if self.method not in methods:
            raise ValueError(f"--method must be one of {methods} for --experiment {self.experiment}, "
                             f"got {self.method!r}")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"--strategy must be default, mirrored or multi_worker, got {self.strategy!r}")
        if self.transition not in ("nonlinear", "linear"):
            raise ValueError(f"--transition must be 'nonlinear' or 'linear', got {self.transition!r}")
        size = emission_output_size(self.emission_kernels, self.emission_strides)
        if size != self.image_size or self.emission_filters[-1] != 3:
            raise ValueError(
                f"the emission network (filters {self.emission_filters}, kernels {self.emission_kernels}, strides "
                f"{self.emission_strides}) makes {size}x{size} frames with {self.emission_filters[-1]} channels, "
                f"but --image_size is {self.image_size}; use --image_size 64, 128 or 150 to get the paper's "
                f"network for that size")
        return self

    @property
    def num_chunks(self):
        return self.num_frames // self.chunk_length

    @property
    def clips_per_batch(self):
        """Clips per mini-batch: the `clips` part's batch size, 0 (all clips at once) without one."""
        return self.clips.batch_size if self.clips is not None else 0

    @staticmethod
    def legacy_parts(values):
        """The parts a run stored in the flat form of earlier versions had, from its experiment."""
        return PARTS.get(values.get("experiment"), ())


# Which parts each experiment's runs have (for configs stored before configs were composed).
PARTS = {"recover": ("incomplete",), "inpaint": ("incomplete",), "action": ("clips",), "interpolate": ("clips",),
         "animate": ("clips", "encoder")}


def resolve(config, values, from_preset):
    """`config` with the settings `values`; `--image_size` alone also picks the paper's emission network for that
    size (64, 128 or 150), as the presets do, and `--mask_type` without `--mask` replaces a stored mask file by a
    generated mask of that type."""
    if "mask_type" in values and "mask" not in values and "mask" in configs.settings(config):
        values = dict(values, mask="")
    emission = {"emission_filters", "emission_kernels", "emission_strides"}
    if "image_size" in values and not emission & set(values):
        config = with_image_size(config, values["image_size"])
    return configs.with_settings(config, values)


def with_image_size(config, image_size):
    """The config with the paper's emission network for `image_size` (64, 128 or 150)."""
    if image_size not in EMISSION_NETWORKS:
        raise ValueError(f"no paper emission network for --image_size {image_size}; choose 64, 128 or 150")
    filters, kernels, strides = EMISSION_NETWORKS[image_size]
    return dataclasses.replace(config, image_size=image_size, emission_filters=filters, emission_kernels=kernels,
                               emission_strides=strides)


TEXTURE_PAPER = DynamicGeneratorConfig()

# The update rules of §4.1 (δ, l, σ, Adam, energy, chunks of 30) on one chunk of 30 frames of 32x32 (the 64x64
# network minus its first 512-channel layer, as the other quick presets) for 500 iterations, so that `python main.py`
# learns a synthetic texture in a few minutes on 2 CPU cores and its samples keep moving like the clip
# (docs/results/texture.md).
TEXTURE_QUICK = dataclasses.replace(
    TEXTURE_PAPER, preset="quick", image_size=32, emission_filters=(512, 256, 128, 64, 3),
    emission_kernels=(4,) * 5, emission_strides=(2,) * 5, num_frames=30, num_iterations=500, sample_every=100,
    checkpoint_every=50)

# For tests: a 16x16 network with the same structure (3 deconvolutions), tiny dimensions.
TEXTURE_TINY = dataclasses.replace(
    TEXTURE_PAPER, preset="tiny", image_size=16, num_frames=8, chunk_length=4, state_dim=6, noise_dim=5,
    emission_filters=(16, 8, 8, 3), emission_kernels=(4, 4, 4, 4), emission_strides=(2, 2, 2, 2),
    num_langevin_steps=3, num_iterations=3, log_every=1, sample_every=2, checkpoint_every=1)

# AAAI'19 §4.3 recovery from incomplete videos (Table 2): 150x150x70 frames, the whole clip one chunk; emission
# 7 deconvolutions {512, 512, 256, 128, 64, 64, 3}, kernels {4, 4, 4, 4, 4, 4, 7}, up-sampling {2, 2, 2, 2, 3, 3, 1};
# σ = 0.5; 7000 iterations; transition, Langevin (δ = 0.03, l = 15) and Adam as in §4.1 (authors'
# main_dyn_G_recovery.py). The energy is Eq. (6) summed over the visible values only, 1 / (2σ²) · Σ_visible
# (`energy_scale="sum"`); the authors' code divided it by the number of visible values (`"authors"`, an option;
# train.reconstruction_weight), under which Langevin hardly moves ξ and s_0. δ = 0.03 at Eq. (6)'s scale
# (docs/results/recover.md, "Energy scale").
RECOVER_PAPER = with_image_size(dataclasses.replace(
    TEXTURE_PAPER, experiment="recover", num_frames=70, chunk_length=70, sigma=0.5, energy_scale="sum",
    incomplete=IncompleteConfig(),
    num_iterations=7000, sample_every=500, checkpoint_every=100), 150)

# Same update rules (σ, δ, l, Adam, energy convention, whole clip as one chunk, all 70 frames) on 32x32 frames with
# the 64x64 network minus its first 512-channel layer. 1500 iterations: the furthest measured point of the learning
# curves on fountain with the authors' two masks (docs/results/recover.md, "Learning curves").
RECOVER_QUICK = dataclasses.replace(
    RECOVER_PAPER, preset="quick", image_size=32, emission_filters=(512, 256, 128, 64, 3),
    emission_kernels=(4,) * 5, emission_strides=(2,) * 5, num_iterations=1500, sample_every=100,
    checkpoint_every=50)

# For tests: the tiny texture network on an incomplete clip.
RECOVER_TINY = dataclasses.replace(TEXTURE_TINY, experiment="recover", sigma=0.5, num_iterations=2,
                                   incomplete=IncompleteConfig())

# AAAI'19 §4.4 content removal (background inpainting): 128x128 frames, emission 7 deconvolutions
# {512, 512, 512, 256, 128, 64, 3}, kernel 4, stride 2; σ = 0.5, 7000 iterations, the whole clip (104 frames of the
# shared chatelet clip and its mask) one chunk (authors' main_dyn_G_background_inpainting.py asks for 150).
INPAINT_PAPER = with_image_size(dataclasses.replace(
    RECOVER_PAPER, experiment="inpaint", num_frames=104, chunk_length=104,
    incomplete=IncompleteConfig(mask_type="block")), 128)
INPAINT_QUICK = dataclasses.replace(
    RECOVER_QUICK, experiment="inpaint", num_frames=104, chunk_length=104,
    incomplete=IncompleteConfig(mask_type="block"))
INPAINT_TINY = dataclasses.replace(RECOVER_TINY, experiment="inpaint", incomplete=IncompleteConfig(mask_type="block"))

# AAAI'19 §4.2 action patterns, the animal preset (authors' main_dyn_G_motion.py, run on animal30_running):
# 64x64x30 frames, the clip one chunk; state 3, noise 100, appearance 100 per clip, no motion-type vector;
# mini-batches of 30 clips; 7000 iterations; transition, emission, Langevin (δ = 0.03, l = 15, σ = 1) and Adam
# as in §4.1. Energy and MLP initialisation as our texture preset (docs/fidelity.md).
ACTION_PAPER = dataclasses.replace(
    TEXTURE_PAPER, experiment="action", data="synthetic:actions", num_frames=30, chunk_length=30, state_dim=3,
    noise_dim=100, appearance_dim=100, clips=ClipsConfig(batch_size=30), num_iterations=7000, sample_every=500,
    checkpoint_every=100)
# §4.2 Weizmann actions: state 100, noise 50, appearance 100, 64x64x30 frames; the rest as the animal preset.
ACTION_WEIZMANN = dataclasses.replace(ACTION_PAPER, preset="weizmann", state_dim=100, noise_dim=50)
# The animal preset's dimensions and update rules on 32x32 frames (the 64x64 network minus its first 512-channel
# layer, as the recovery quick preset) and 300 iterations, so that many clips learn in minutes on 2 CPU cores.
ACTION_QUICK = dataclasses.replace(
    ACTION_PAPER, preset="quick", image_size=32, emission_filters=(512, 256, 128, 64, 3),
    emission_kernels=(4,) * 5, emission_strides=(2,) * 5, num_iterations=300, sample_every=50,
    checkpoint_every=25)
# For tests: the tiny texture network with appearance and motion vectors, 2 clips per batch.
ACTION_TINY = dataclasses.replace(
    TEXTURE_TINY, experiment="action", data="synthetic:actions", appearance_dim=4, motion_dim=2,
    clips=ClipsConfig(batch_size=2))

# AAAI'19 §4.5 animating a static image: the encoder E_γ (3 convolutions {64, 128, 256}, kernels {5, 3, 3},
# strides {2, 2, 1}, one fully connected layer) maps the first frame x_0 to appearance (100) and initial state (80);
# noise ξ of dimension 20; otherwise the §4.2 configuration (64x64, 30 frames as one chunk, Langevin δ = 0.03,
# l = 15 on ξ only, Adam 0.002 β1 0.5 on α, β, γ together). Clips hold x_0 and then `num_frames` frames to predict.
ANIMATE_PAPER = dataclasses.replace(
    ACTION_PAPER, experiment="animate", state_dim=80, noise_dim=20, appearance_dim=100, encoder=EncoderConfig())
# 32x32 frames (the 64x64 emission minus its first layer, as the other quick presets), 15 predicted frames,
# 300 iterations.
ANIMATE_QUICK = dataclasses.replace(
    ANIMATE_PAPER, preset="quick", image_size=32, emission_filters=(512, 256, 128, 64, 3),
    emission_kernels=(4,) * 5, emission_strides=(2,) * 5, num_frames=15, chunk_length=15, num_iterations=300,
    sample_every=50, checkpoint_every=25)
ANIMATE_TINY = dataclasses.replace(
    ACTION_TINY, experiment="animate", motion_dim=0,
    encoder=EncoderConfig(encoder_filters=(4, 8), encoder_kernels=(5, 3), encoder_strides=(2, 1)))

PRESETS = {
    "texture": {"paper": TEXTURE_PAPER, "quick": TEXTURE_QUICK, "tiny": TEXTURE_TINY},
    "recover": {"paper": RECOVER_PAPER, "quick": RECOVER_QUICK, "tiny": RECOVER_TINY},
    "inpaint": {"paper": INPAINT_PAPER, "quick": INPAINT_QUICK, "tiny": INPAINT_TINY},
    "action": {"paper": ACTION_PAPER, "weizmann": ACTION_WEIZMANN, "quick": ACTION_QUICK, "tiny": ACTION_TINY},
    "animate": {"paper": ANIMATE_PAPER, "quick": ANIMATE_QUICK, "tiny": ANIMATE_TINY},
}



# Each setting's flag help (main.py adds the presets' defaults); the settings shared with the spatial-temporal
# generator in the same sense are in abp_video/configs.COMMON_HELP.
SETTING_HELP = dict(configs.COMMON_HELP, **{
    "data": "The clip(s): a video file, a folder of frame images, a folder of videos (action: one clip each) or a "
            "built-in synthetic clip (synthetic:fire, synthetic:water, synthetic:actions).",
    "image_size": "Side in pixels of the square frames the clip is resized to (the paper's emission networks: 32, "
                  "64, 128 or 150).",
    "num_frames": "Frames used from the start of each clip (a multiple of --chunk_length); in --mode sample, the "
                  "length to synthesise.",
    "chunk_length": "Frames per chunk of truncated back-propagation through time (the authors' 30).",
    "state_dim": "Dimension of the state s_t.",
    "noise_dim": "Dimension of the innovation xi_t.",
    "appearance_dim": "Dimension of the per-clip appearance vector a at the emission input (Eq. 11); 0 = none.",
    "motion_dim": "Dimension of the per-clip motion vector m at the transition input; 0 = none.",
    "transition": "Transition F_alpha: nonlinear (s_t = tanh(s_{t-1} + MLP(s_{t-1}, xi_t)), the paper's) or linear.",
    "transition_hidden_units": "Hidden units of the transition MLP, comma-separated.",
    "transition_init_std": "Standard deviation of the transition MLP's initial weights.",
    "emission_filters": "Filters of the emission G_beta's transposed convolutions, comma-separated (the last is 3).",
    "emission_kernels": "Kernel size of each emission layer, comma-separated.",
    "emission_strides": "Stride of each emission layer, comma-separated.",
    "emission_init_std": "Standard deviation of the emission's initial weights.",
    "mixed_precision": "bfloat16 transposed convolutions (faster on CPUs with AVX-512 BF16 or AMX, and GPUs).",
    "energy_scale": f"Reconstruction energy: sum (Eq. 6) or authors (averaged over frames, as their code); one of "
                    f"{ENERGY_SCALES}.",
    "metropolis": "Metropolis-adjusted Langevin (TFP's MALA) instead of the papers' plain Langevin.",
    "method": "What learns the clip: texture / texture_eval: " + ", ".join(TEXTURE_METHODS) + "; recover / "
              "inpaint: " + ", ".join(RECOVERY_METHODS) + " (dg = the dynamic generator).",
    "mask": "recover / inpaint: a mask file (.mat, .npy, a folder of PNGs or a mask video; 1 = visible); empty = "
            "generate one of --mask_type.",
    "mask_type": "recover / inpaint: the mask generated when --mask is empty: " + ", ".join(MASK_TYPES) + ".",
    "batch_size": "action / animate: clips per mini-batch (0 = all clips in one batch).",
    "num_held_out": "action / animate: clips held out of training (their latents inferred with the model frozen).",
    "encoder_filters": "animate: filters of the encoder E_gamma's convolutions, comma-separated.",
    "encoder_kernels": "animate: kernel size of each encoder convolution, comma-separated.",
    "encoder_strides": "animate: stride of each encoder convolution, comma-separated.",
})
