"""Paper presets of the spatial-temporal generator (WACV'19), as frozen dataclasses; variants derive by `replace`."""

import dataclasses

from abp_video import configs
from abp_video.configs import NORMALIZATION_STATISTICS, STRATEGIES
from st_generator.architecture import MODEL_KINDS, audio_length, output_shape

INITS = ("abp", "li")  # ABP with warm-started chains (§3.2), or LI-ABP, chains started by f_V (§3.3).
# Tables 2-3's methods with the same Model-3 generator: ABP, LI-ABP (`--init li`), and the baselines of
# st_generator/baselines.py: a 3D VAE, 3D wake-sleep and a 3D GAN.
METHODS = ("abp", "li_abp", "vae", "ws", "gan")
BASELINES = ("vae", "ws", "gan")
STAGES = ("test", "train")  # Tables 2-3: occlusions at test time (frozen model) or in the training data.
# Masks of abp_video/data/masks.py the experiments use (§4.2): M0.5, P20, B35 (test), B25 (train); Table 1's frame masks.
ST_MASK_TYPES = ("m50", "p20", "b35", "b25", "middle_frames", "frame_blocks")


@dataclasses.dataclass(frozen=True)
class STConfig:
    """WACV'19 Model-3 recovery (§4.2, Tables 2-3; the `paper` preset of `st_recover`).

    Segments of 32 frames at 64x64, train/test split 4:1; latent 1x1x1 x 100; generator {512, 384, 256, 128, 64, 3}
    (4x4x2 valid, 7x7x7, then 4x4x4 stride 2), BN + ReLU, tanh; ABP: l = 20 Langevin steps of δ = 0.1, σ = 0.5,
    Adam lr 0.0002, β1 0.5, 500 iterations, warm-started chains; LI-ABP: chains start from f_V(I) and run 10 steps;
    recovery at test time with the frozen model: 200 steps of δ = 0.05 on the visible pixels.
    """
    experiment: str = "st_recover"
    preset: str = "paper"
    data: str = "synthetic:fire"
    seed: int = 1

    # Data: segments of `num_frames` frames cut one after another from the clip; `max_segments` (0 = all).
    image_size: int = 64
    num_frames: int = 32
    max_segments: int = 0
    test_fraction: float = 0.2  # 4:1 train/test split (the last fifth of the segments is the test set).

    # Generator (models.layer_specs): Model-1/2/3, latent grid (t, h, w) x channels, filters per layer.
    model: int = 3
    latent_grid: tuple = (1, 1, 1)
    latent_channels: int = 100
    generator_filters: tuple = (512, 384, 256, 128, 64, 3)
    first_kernel_time: int = 2
    init_std: float = 0.02

    # ABP (Algorithm 1): Langevin on Z (Eq. 4), then Adam on W (Eq. 5).
    sigma: float = 0.5
    langevin_step_size: float = 0.1
    num_langevin_steps: int = 20
    learning_rate: float = 0.0002
    adam_beta1: float = 0.5
    num_iterations: int = 500
    batch_size: int = 0  # Segments per learning step (0 = all); one iteration sweeps every segment once.
    strategy: str = "default"  # tf.distribute: default (one device), mirrored or multi_worker (docs/distribute.md).

    # LI-ABP (§3.3) and recovery (§3.4, §4.2).
    init: str = "abp"
    li_langevin_steps: int = 10
    # LI-ABP at the test stage: f_V learns from samples Ĩ occluded by a random test mask each (one of `test_masks`,
    # a new type and place per sample and iteration), the kind of input it reads at test time; False = Ĩ masked
    # like the training segments, i.e. complete at the test stage (§3.3 as written). See docs/st_recover.md.
    li_occluded_samples: bool = False
    stage: str = "test"
    mask_type: str = "m50"  # Training-time mask (stage train) or the Table-1 mask.
    test_masks: str = "m50,p20,b35"  # Test-time masks (stage test), comma-separated.
    recovery_langevin_steps: int = 200  # Also the VAE / wake-sleep imputation iterations at recovery.
    recovery_step_size: float = 0.05
    # Incomplete data (§3.4: training or test segments with a mask): the generator's batch-normalisation statistics
    # over the visible part of the output only (`visible`), or over every position (`all`, the authors' batch
    # normalisation, under which the occluded positions steer the statistics of the visible ones; runs stored
    # before this setting read as `all`). No effect on complete data. docs/fidelity.md.
    normalization_statistics: str = configs.newer_setting("visible", stored="all")

    # Baselines (st_generator/baselines.py). `method` li_abp is `init` li (either flag sets both).
    method: str = "abp"
    # Generator updates per iteration of the VAE, wake-sleep and GAN: 1, as they are normally trained (one update
    # per mini-batch); 0 = ABP's generator forward-backward passes per iteration (num_langevin_steps + 1), the
    # equal-compute comparison, in which every method spends the same generator gradient evaluations.
    baseline_updates: int = 1
    gan_learning_rate: float = 0.0002  # Vondrick et al. 2016: Adam lr 0.0002, β1 0.5 (adam_beta1).

    # Synthesis (st_synthesis): the latent grid for new clips (empty = the training grid; Model-1 larger and
    # longer, Model-2 twice as long).
    synthesis_grid: tuple = ()

    # Run bookkeeping.
    log_every: int = 10
    sample_every: int = 100
    checkpoint_every: int = 50
    num_output_samples: int = 2

    def __post_init__(self):
        # `--init li` and `--method li_abp` name the same method: whichever was given sets the other.
        if self.init == "li" and self.method == "abp":
            object.__setattr__(self, "method", "li_abp")
        elif self.method == "li_abp" and self.init == "abp":
            object.__setattr__(self, "init", "li")

    def validate(self):
        """Raises ValueError with a sentence a user understands when the config cannot run."""
        for name in ("image_size", "num_frames", "latent_channels", "first_kernel_time", "num_langevin_steps",
                     "num_iterations", "li_langevin_steps", "recovery_langevin_steps", "log_every", "sample_every",
                     "checkpoint_every", "num_output_samples"):
            if getattr(self, name) <= 0:
                raise ValueError(f"--{name} must be positive, got {getattr(self, name)}")
        for name in ("sigma", "langevin_step_size", "learning_rate", "recovery_step_size", "init_std"):
            if getattr(self, name) <= 0:
                raise ValueError(f"--{name} must be positive, got {getattr(self, name)}")
        if self.max_segments < 0 or self.batch_size < 0:
            raise ValueError("--max_segments and --batch_size must be 0 (all) or positive")
        if not 0.0 < self.test_fraction < 1.0:
            raise ValueError(f"--test_fraction must be between 0 and 1, got {self.test_fraction}")
        if self.model not in MODEL_KINDS:
            raise ValueError(f"--model must be 1, 2 or 3, got {self.model}")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"--strategy must be default, mirrored or multi_worker, got {self.strategy!r}")
        if self.init not in INITS:
            raise ValueError(f"--init must be one of {INITS}, got {self.init!r}")
        if self.method not in METHODS:
            raise ValueError(f"--method must be one of {METHODS}, got {self.method!r}")
        if self.init == "li" and self.method != "li_abp":
            raise ValueError(f"--init li means --method li_abp, which conflicts with --method {self.method}; "
                             f"give --method only")
        if self.method in BASELINES and self.experiment != "st_recover":
            raise ValueError(f"--method {self.method} is a baseline of --experiment st_recover (Tables 2-3) only; "
                             f"{self.experiment} takes --method abp or li_abp")
        if self.method in BASELINES and self.strategy != "default":
            raise ValueError(f"--method {self.method} runs on one device; use --strategy default (only ABP and "
                             f"LI-ABP shard their segments over replicas)")
        if self.baseline_updates < 0 or self.gan_learning_rate <= 0:
            raise ValueError(f"--baseline_updates must be 0 (matched to ABP) or positive and --gan_learning_rate "
                             f"positive, got {self.baseline_updates} and {self.gan_learning_rate}")
        if self.normalization_statistics not in NORMALIZATION_STATISTICS:
            raise ValueError(f"--normalization_statistics must be one of {NORMALIZATION_STATISTICS}, got "
                             f"{self.normalization_statistics!r}")
        if self.stage not in STAGES:
            raise ValueError(f"--stage must be one of {STAGES}, got {self.stage!r}")
        for mask in (self.mask_type, *self.test_mask_types):
            if mask not in ST_MASK_TYPES:
                raise ValueError(f"unknown mask {mask!r}; choose from {ST_MASK_TYPES}")
        if len(self.latent_grid) != 3 or min(self.latent_grid) <= 0:
            raise ValueError(f"--latent_grid must be three positive integers t,h,w, got {self.latent_grid}")
        if self.synthesis_grid and (len(self.synthesis_grid) != 3 or min(self.synthesis_grid) <= 0):
            raise ValueError(f"--synthesis_grid must be empty or three positive integers t,h,w, "
                             f"got {self.synthesis_grid}")
        minimum = 1 if self.model == 1 else 2
        if len(self.generator_filters) < minimum or self.generator_filters[-1] != 3:
            raise ValueError(f"--generator_filters {self.generator_filters} must end with 3 (RGB) and have at least "
                             f"{minimum} layers for Model-{self.model}")
        shape = self.video_shape
        if shape != (self.num_frames, self.image_size, self.image_size):
            raise ValueError(
                f"Model-{self.model} with latent grid {self.latent_grid}, filters {self.generator_filters} and first "
                f"kernel time {self.first_kernel_time} makes videos of {shape[0]} frames of {shape[1]}x{shape[2]}, "
                f"but --num_frames is {self.num_frames} and --image_size {self.image_size}; change the latent grid "
                f"or the number of layers so that they agree")
        return self

    @property
    def video_shape(self):
        """(frames, height, width) that the generator makes from `latent_grid`."""
        return output_shape(self.model, self.generator_filters, self.first_kernel_time, self.latent_grid)

    @property
    def updates_per_iteration(self):
        """Generator updates per iteration of a baseline: `baseline_updates`, or ABP's l + 1 passes."""
        return self.baseline_updates or self.num_langevin_steps + 1

    @property
    def test_mask_types(self):
        return tuple(mask.strip() for mask in self.test_masks.split(",") if mask.strip())


# ---- st_recover (§4.2, Tables 2-3) ---------------------------------------------------------------------------------

RECOVER_PAPER = STConfig()

# 2-core CPU: smaller data, the paper's budget. 32x32 frames, segments of 16 frames (four stride-2 layers become
# three; the first kernel stays 4x4x2), filters {128, 64, 64, 32, 3}, at most 5 segments per clip (4 train, 1 test);
# 500 iterations at lr 0.0002, 200 test-time steps and every update rule (δ, l, σ, β1, LI-ABP's 10 steps) as the paper.
RECOVER_QUICK = dataclasses.replace(
    RECOVER_PAPER, preset="quick", image_size=32, num_frames=16, max_segments=5,
    generator_filters=(128, 64, 64, 32, 3), log_every=10, sample_every=100, checkpoint_every=50)

# For tests: 8x8 frames, 4-frame segments, tiny filters, 2 iterations.
RECOVER_TINY = dataclasses.replace(
    RECOVER_PAPER, preset="tiny", image_size=8, num_frames=4, max_segments=5, latent_channels=4,
    generator_filters=(8, 4, 3), num_langevin_steps=2, li_langevin_steps=2, recovery_langevin_steps=3,
    num_iterations=2, log_every=1, sample_every=1, checkpoint_every=1)

# ---- st_interpolate (§4.2, Table 1): Model-2 on one clip with blocked frames ------------------------------------

# Model-2: latent 1x1xT0 x 20, T0 = 4 -> 64 frames of 64x64; layer 1: 512 filters 4x4x1; layer 2: 64 filters 7x7x7;
# then {256, 128, 64, 3}, 4x4x4 stride 2. Learned from the visible frames only (§3.4), σ = 0.5.
INTERPOLATE_PAPER = dataclasses.replace(
    RECOVER_PAPER, experiment="st_interpolate", num_frames=64, max_segments=1, model=2, latent_grid=(4, 1, 1),
    latent_channels=20, generator_filters=(512, 64, 256, 128, 64, 3), first_kernel_time=1, stage="train",
    mask_type="middle_frames")
# 32x32, 32 frames (T0 = 4; filters {128, 64, 64, 32, 3}: three stride-2 layers); the paper's 500 iterations at
# lr 0.0002.
INTERPOLATE_QUICK = dataclasses.replace(
    INTERPOLATE_PAPER, preset="quick", image_size=32, num_frames=32, generator_filters=(128, 64, 64, 32, 3),
    log_every=10, sample_every=100, checkpoint_every=50)
INTERPOLATE_TINY = dataclasses.replace(
    RECOVER_TINY, experiment="st_interpolate", num_frames=16, max_segments=1, model=2, latent_grid=(8, 1, 1),
    first_kernel_time=1, stage="train", mask_type="middle_frames")

# ---- st_synthesis (§4.1, Figure 1) -----------------------------------------------------------------------------

# Model-3 on many segments, σ = 1 for synthesis and a latent of 1x1x1 x 20 (§4.1; 100 is Tables 2-3's).
SYNTHESIS_PAPER = dataclasses.replace(RECOVER_PAPER, experiment="st_synthesis", sigma=1.0, max_segments=0,
                                      latent_channels=20)
SYNTHESIS_QUICK = dataclasses.replace(RECOVER_QUICK, experiment="st_synthesis", sigma=1.0, max_segments=8,
                                      latent_channels=20)
SYNTHESIS_TINY = dataclasses.replace(RECOVER_TINY, experiment="st_synthesis", sigma=1.0)


def model_variant(config, model):
    """The synthesis config for Model-1, -2 or -3 at the config's preset (`st_synthesis --model N`).

    Model-1 (§4.1): latent 8x8x4 (x, y, t) x 2; 4 layers {256, 128, 64, 3}, 4x4x4 stride 2 (128x128x64); synthesises
    from a latent grid twice as large in every direction. Model-2: as Table 1's, on one clip, synthesising twice the
    length (T0 = 8). Model-3: as the recovery model. Smaller presets keep the structure with fewer/smaller layers.
    """
    if model == 3:
        return config
    if model not in MODEL_KINDS:
        raise ValueError(f"--model must be 1, 2 or 3, got {model}")
    if model == 2:
        base = {"paper": INTERPOLATE_PAPER, "quick": INTERPOLATE_QUICK}.get(config.preset, INTERPOLATE_TINY)
        grid = base.latent_grid
        return dataclasses.replace(base, experiment=config.experiment, preset=config.preset, data=config.data,
                                   seed=config.seed, sigma=config.sigma, stage="test",
                                   synthesis_grid=(2 * grid[0], grid[1], grid[2]))
    if config.preset == "paper":
        fields = dict(image_size=128, num_frames=64, latent_grid=(4, 8, 8), generator_filters=(256, 128, 64, 3))
    elif config.preset == "quick":  # 32x32x16 from a 2x4x4 grid, three layers {64, 32, 3}.
        fields = dict(image_size=32, num_frames=16, latent_grid=(2, 4, 4), generator_filters=(64, 32, 3))
    else:
        fields = dict(image_size=8, num_frames=4, latent_grid=(1, 2, 2), generator_filters=(4, 3))
    grid = fields["latent_grid"]
    return dataclasses.replace(config, model=1, latent_channels=2, max_segments=1, first_kernel_time=1,
                               synthesis_grid=tuple(2 * size for size in grid), **fields)


def resolve(config, values, from_preset):
    """`config` with the settings `values`. `--model N` on a fresh st_synthesis run starts from Model-N's preset
    (`model_variant`); `--init li` and `--method li_abp` name one method, so a pair that disagrees is refused."""
    if "init" in values and "method" in values and (values["init"] == "li") != (values["method"] == "li_abp"):
        raise ValueError(f"--init {values['init']} conflicts with --method {values['method']} (--init li is --method "
                         f"li_abp); give --method only")
    if from_preset and "model" in values and config.experiment == "st_synthesis":
        config = model_variant(config, values["model"])
    return configs.with_settings(config, values)


PRESETS = {
    "st_synthesis": {"paper": SYNTHESIS_PAPER, "quick": SYNTHESIS_QUICK, "tiny": SYNTHESIS_TINY},
    "st_interpolate": {"paper": INTERPOLATE_PAPER, "quick": INTERPOLATE_QUICK, "tiny": INTERPOLATE_TINY},
    "st_recover": {"paper": RECOVER_PAPER, "quick": RECOVER_QUICK, "tiny": RECOVER_TINY},
}


# ---- st_multimodal (§3.5, §4.2, Table 4): the shared audio-video representation ----------------------------------

@dataclasses.dataclass(frozen=True)
class AudioConfig:
    """The 1D audio generator (§3.5): transposed 1D convolutions {512, 256, 128, 1}, kernel 20, stride 10, BN + ReLU,
    tanh last (1 -> 10^4 samples). The paper's audio is 48,000 samples long (§4.2), which four stride-10 layers
    from one latent step cannot make: `audio_top_length` 48 gives the first layer kernel and stride 48 (1 -> 48
    steps; from a single step it is a linear map to 48 × 512 values), so that 48 -> 480 -> 4,800 -> 48,000 with
    the three later layers as the paper's; 0 = a first layer like the others. `audio_sigma` 0 balances the
    modalities: σ_a² = σ²·(audio values / video values), so that both energy terms weigh alike per value."""
    audio_filters: tuple = (512, 256, 128, 1)
    audio_kernel: int = 20
    audio_stride: int = 10
    audio_sigma: float = 0.0
    audio_top_length: int = 0

    def validate(self):
        if self.audio_top_length < 0:
            raise ValueError(f"--audio_top_length must be 0 (a first layer like the others) or positive, got "
                             f"{self.audio_top_length}")
        for name in ("audio_kernel", "audio_stride"):
            if getattr(self, name) <= 0:
                raise ValueError(f"--{name} must be positive, got {getattr(self, name)}")
        if self.audio_sigma < 0:
            raise ValueError(f"--audio_sigma must be 0 (balanced) or positive, got {self.audio_sigma}")
        if not self.audio_filters or self.audio_filters[-1] != 1:
            raise ValueError(f"--audio_filters {self.audio_filters} must end with 1 (a mono signal)")
        return self

    @property
    def num_audio_samples(self):
        """Audio samples the audio generator makes: (top length or stride) * stride ** (layers - 1)."""
        return audio_length(len(self.audio_filters), self.audio_stride, self.audio_top_length)


TIME_FITS = ("circular", "resample")
VOICES = ("shared", "per_speaker")  # abp_video/data/talking_mouth.VOICES


@dataclasses.dataclass(frozen=True)
class CorpusConfig:
    """The utterances (OuluVS: 20 speakers, 10 phrases, 5 repetitions; the synthetic set's size, an OuluVS folder
    brings its own), the split and how an utterance is brought to the generators' length.

    Split (§4.2): `train_speakers` speakers drawn at random (by seed) train both methods on all their utterances and
    `test_speakers` other speakers are the test set (the paper: 10 and 3). With `test_speakers` 0, the last
    `test_repetitions` repetitions of every speaker and phrase are held out instead (seen speakers).
    `time_fit` (OuluVS folders only; the synthetic set is made at the right length): `circular` (§4.2) repeats
    the frames from the start or drops the last ones to make `num_frames`, and takes the audio's first samples at
    its own rate (OuluVS: 48 kHz, so 48,000 = one second), repeated from the start if shorter; `resample` spreads
    both over the whole utterance. `voice` (the synthetic set only): `shared`, a speaker's sound is the same function
    of the visible mouth for everyone (two voice registers told by the mouth's width), or `per_speaker` (the set
    before 2026-12-07: pitch, formants and loudness drawn per speaker; runs stored before read as that).
    """
    num_speakers: int = 20
    num_phrases: int = 10
    num_repetitions: int = 5
    test_repetitions: int = 1
    train_speakers: int = 0
    test_speakers: int = 0
    time_fit: str = "circular"
    voice: str = configs.newer_setting("shared", stored="per_speaker")

    def validate(self):
        for name in ("num_speakers", "num_phrases", "num_repetitions", "test_repetitions"):
            if getattr(self, name) <= 0:
                raise ValueError(f"--{name} must be positive, got {getattr(self, name)}")
        if self.num_phrases > 10:
            raise ValueError(f"--num_phrases must be at most 10 (OuluVS's phrases), got {self.num_phrases}")
        if self.time_fit not in TIME_FITS:
            raise ValueError(f"--time_fit must be one of {TIME_FITS}, got {self.time_fit!r}")
        if self.voice not in VOICES:
            raise ValueError(f"--voice must be one of {VOICES}, got {self.voice!r}")
        if self.test_speakers < 0 or self.train_speakers < 0:
            raise ValueError("--train_speakers and --test_speakers must be 0 or positive")
        if self.test_speakers:
            if self.train_speakers < 2:
                raise ValueError(f"--train_speakers {self.train_speakers}: the speaker split needs at least 2 "
                                 f"training speakers (CCA's cross-validation holds speakers out)")
            if self.train_speakers + self.test_speakers > self.num_speakers:
                raise ValueError(f"--train_speakers {self.train_speakers} + --test_speakers {self.test_speakers} "
                                 f"exceed --num_speakers {self.num_speakers}")
            return self
        if self.num_repetitions - self.test_repetitions < 2:
            raise ValueError(f"--num_repetitions {self.num_repetitions} with --test_repetitions "
                             f"{self.test_repetitions} leaves fewer than 2 training repetitions, which CCA's "
                             f"cross-validation needs; raise --num_repetitions")
        return self


# The settings of the video part that st_multimodal has: the run, the Model-3 video generator (one latent vector
# per utterance: model 3 and its 1x1x1 grid are fixed), ABP on the joint energy and the test-time Langevin.
VIDEO_SETTINGS = ("experiment", "preset", "data", "seed", "image_size", "num_frames", "latent_channels",
                  "generator_filters", "first_kernel_time", "init_std", "sigma", "langevin_step_size",
                  "num_langevin_steps", "learning_rate", "adam_beta1", "num_iterations", "batch_size",
                  "recovery_langevin_steps", "recovery_step_size", "log_every", "sample_every", "checkpoint_every",
                  "num_output_samples")

# The video part of the paper preset: Model-3 as in Tables 2-3 (latent 1x1x1 x 100, {512, 384, 256, 128, 64, 3}),
# 32 frames of 64x64 (§4.2); test time 200 Langevin steps of δ = 0.1 (§4.2); where the paper is silent (σ, the
# learning Langevin and Adam settings, iterations) Tables 1-3's ABP settings (l = 20, δ = 0.1, σ_v = 0.5, Adam
# 0.0002, β1 0.5, 500 iterations); `num_output_samples` test utterances are shown in the written GIF and plots.
MULTIMODAL_VIDEO = dataclasses.replace(RECOVER_PAPER, experiment="st_multimodal", data="synthetic:talking_mouth",
                                       recovery_step_size=0.1, num_output_samples=4)


@dataclasses.dataclass(frozen=True)
class MultimodalConfig:
    """WACV'19 §3.5 / §4.2 (Table 4): a Model-3 video generator and a 1D audio generator share one latent Z.

    Paper: OuluVS (20 speakers, 10 phrases, 5 repetitions); inference on the sum of both reconstruction energies
    ||V − G_v(Z)||²/2σ² + ||A − G_a(Z)||²/2σ_a² + ||Z||²/2; at test time Z is inferred from one modality and the
    other is generated (A→V, V→A), against CCA. Parts: `video` (an `STConfig`: the run, the video generator, ABP),
    `audio`, `corpus`; their settings are the flags.
    """
    video: STConfig = configs.part(STConfig, default=MULTIMODAL_VIDEO, settings=VIDEO_SETTINGS)
    audio: AudioConfig = configs.part(AudioConfig, default=AudioConfig())
    corpus: CorpusConfig = configs.part(CorpusConfig, default=CorpusConfig())

    # What the run registry and the training loop read of every config.
    experiment = property(lambda self: self.video.experiment)
    preset = property(lambda self: self.video.preset)
    data = property(lambda self: self.video.data)
    seed = property(lambda self: self.video.seed)
    num_iterations = property(lambda self: self.video.num_iterations)
    log_every = property(lambda self: self.video.log_every)
    sample_every = property(lambda self: self.video.sample_every)
    checkpoint_every = property(lambda self: self.video.checkpoint_every)

    def validate(self):
        """Raises ValueError with a sentence a user understands when the config cannot run."""
        self.video.validate()
        self.audio.validate()
        self.corpus.validate()
        return self

    @property
    def resolved_audio_sigma(self):
        """σ_a: `audio_sigma`, or the balanced σ·sqrt(audio values / video values) when it is 0."""
        if self.audio.audio_sigma:
            return self.audio.audio_sigma
        video_values = 3 * self.video.num_frames * self.video.image_size ** 2
        return self.video.sigma * (self.audio.num_audio_samples / video_values) ** 0.5


# §4.2: audio of 48,000 samples (`audio_top_length` 48), 10 training speakers and 3 new test speakers of 20.
MULTIMODAL_PAPER = MultimodalConfig(audio=AudioConfig(audio_top_length=48),
                                    corpus=CorpusConfig(train_speakers=10, test_speakers=3))
# 2-core CPU: smaller data, the paper's budget and protocol. 32x32 frames, 16 frames per utterance (Model-3 with three
# stride-2 layers, as st_recover's quick), audio {256, 128, 64, 1} of 4 layers of kernel 20, stride 10 (10^4
# samples, 15.6 kHz over 0.64 s); 6 speakers x 10 phrases x 2 repetitions, 4 training speakers (80 utterances) and 2
# new test speakers (40); 500 iterations at lr 0.0002, 200 test-time steps of δ = 0.1.
MULTIMODAL_QUICK = configs.with_settings(MULTIMODAL_PAPER, dict(
    preset="quick", image_size=32, num_frames=16, num_speakers=6, num_repetitions=2, train_speakers=4,
    test_speakers=2, generator_filters=(128, 64, 64, 32, 3), audio_filters=(256, 128, 64, 1), audio_top_length=0,
    log_every=10, sample_every=100, checkpoint_every=50))
# For tests: 8x8 frames, 4 frames, audio of 2 layers (100 samples), 3 speakers (2 train, 1 test) x 3 phrases x 2
# repetitions.
MULTIMODAL_TINY = configs.with_settings(MULTIMODAL_PAPER, dict(
    preset="tiny", image_size=8, num_frames=4, num_speakers=3, num_phrases=3, num_repetitions=2, train_speakers=2,
    test_speakers=1, latent_channels=4, generator_filters=(8, 4, 3), audio_filters=(4, 1), audio_top_length=0,
    num_langevin_steps=2, recovery_langevin_steps=3, num_iterations=2, log_every=1, sample_every=1,
    checkpoint_every=1, num_output_samples=2))
MULTIMODAL_PRESETS = {"paper": MULTIMODAL_PAPER, "quick": MULTIMODAL_QUICK, "tiny": MULTIMODAL_TINY}


# Each setting's flag help (main.py adds the presets' defaults); the settings shared with the dynamic generator in
# the same sense are in abp_video/configs.COMMON_HELP.
SETTING_HELP = dict(configs.COMMON_HELP, **{
    "data": "The clip: a video file, a folder of frame images or a built-in synthetic clip (synthetic:fire); "
            "st_multimodal: an OuluVS folder or synthetic:talking_mouth; --mode table: table clips by name.",
    "image_size": "Side in pixels of the square frames the clip is resized to.",
    "num_frames": "Frames per segment (the generator's output length).",
    "max_segments": "Segments cut one after another from the clip (0 = every whole segment).",
    "test_fraction": "Fraction of the segments kept for testing (the last ones; the paper's 4:1 split is 0.2).",
    "model": "Latent layout: 1 (a spatial-temporal grid), 2 (a latent per time step) or 3 (one latent vector).",
    "latent_grid": "Latent grid t,h,w (comma-separated); with --latent_channels the shape of Z.",
    "latent_channels": "Channels of the latent Z at each grid position.",
    "generator_filters": "Filters of the generator's 3D transposed convolutions, comma-separated (the last is 3).",
    "first_kernel_time": "Temporal size of the first layer's kernel.",
    "init_std": "Standard deviation of the generator's initial weights.",
    "batch_size": "Segments per learning step (0 = all).",
    "init": "How the chains start: " + " or ".join(INITS) + " (LI-ABP: from f_V(I), §3.3; the same as --method "
            "li_abp).",
    "li_langevin_steps": "LI-ABP: Langevin steps from f_V's initialisation.",
    "li_occluded_samples": "LI-ABP at the test stage: f_V learns from samples occluded by test masks "
                           "(docs/st_recover.md).",
    "stage": "st_recover: where the occlusions are, " + " (Table 2) or ".join(STAGES) + " (Table 3).",
    "mask_type": "The training-time mask (st_recover --stage train) or Table 1's mask: " + ", ".join(ST_MASK_TYPES)
                 + ".",
    "test_masks": "st_recover --stage test: the test masks, comma-separated (m50, p20, b35).",
    "recovery_langevin_steps": "Langevin steps of recovery with the frozen model (also the VAE / wake-sleep "
                               "imputation iterations).",
    "recovery_step_size": "Langevin step size of recovery with the frozen model.",
    "method": "st_recover: " + ", ".join(METHODS) + " (VAE, wake-sleep and GAN with the same generator); "
              "st_synthesis / st_interpolate: abp or li_abp.",
    "baseline_updates": "Generator updates per iteration of the VAE, wake-sleep and GAN (0 = as many generator "
                        "passes as ABP).",
    "gan_learning_rate": "The GAN's Adam learning rate (Vondrick et al. 2016).",
    "synthesis_grid": "st_synthesis: the latent grid t,h,w of new clips (empty = the training grid).",
    "audio_filters": "st_multimodal: filters of the audio generator's 1D transposed convolutions (the last is 1).",
    "audio_kernel": "st_multimodal: kernel size of the audio layers.",
    "audio_stride": "st_multimodal: stride of the audio layers.",
    "audio_sigma": "st_multimodal: sigma of the audio's noise (0 = balanced with the video's per value).",
    "audio_top_length": "st_multimodal: length of the audio generator's first layer output (0 = its stride).",
    "num_speakers": "st_multimodal: speakers in the corpus (OuluVS: 20).",
    "num_phrases": "st_multimodal: phrases per speaker (OuluVS: 10).",
    "num_repetitions": "st_multimodal: repetitions per phrase (OuluVS: 5).",
    "test_repetitions": "st_multimodal: repetitions per phrase held out for testing.",
    "train_speakers": "st_multimodal: speakers trained on (0 = all but --test_speakers).",
    "test_speakers": "st_multimodal: new speakers tested on (0 = test on held-out repetitions).",
    "time_fit": "st_multimodal, OuluVS folders: fitting utterances to --num_frames, one of " + ", ".join(TIME_FITS)
                + ".",
    "voice": "st_multimodal, the synthetic set: shared (a speaker's sound is the same function of the visible mouth "
             "for everyone: two voice registers told by the mouth's width) or per_speaker (pitch, formants and "
             "loudness drawn per speaker, invisible; the set before 2026-12-07, which runs stored before read as).",
})
