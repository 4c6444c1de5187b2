"""The papers' constants, stated once, each with where it comes from.

Every group carries a :class:`Source`: the bibtex key in ``book/references.bib`` and
the table, equation or section of the paper the numbers are printed in. Values are
typed exactly as printed (never re-rounded); where a paper prints logarithms we store
the logarithms and derive the rest.

Units: N in parameters, D in tokens, C in FLOPs unless a field says PF-days,
loss L in nats per token. Kaplan et al. count *non-embedding* parameters and compute;
Hoffmann et al. count *total* parameters. Each group's docstring says which.

Other modules read from here; notebooks never retype a published number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    """Where a number comes from: bibtex ``key`` and the place in the paper."""

    key: str
    where: str
    note: str = ""

    def __str__(self) -> str:
        return f"{self.key}, {self.where}" + (f" ({self.note})" if self.note else "")


# --------------------------------------------------------------------------------------
# Kaplan et al. 2020, "Scaling Laws for Neural Language Models"
# --------------------------------------------------------------------------------------

PF_DAY: float = 1e15 * 24 * 3600
"""1 PF-day = 10^15 FLOP/s for one day = 8.64e19 FLOPs (kaplan2020, Section 1.3)."""

PF_DAY_SOURCE = Source("kaplan2020", "Section 1.3 (notation)")


@dataclass(frozen=True)
class KaplanSingleFits:
    """Kaplan's single-variable power laws L(X) = (X_c / X)^alpha_X.

    N: non-embedding parameters. D: tokens. C, C_min: non-embedding training compute
    in PF-days (C_min: at the compute-efficient frontier; C: naive, fixed batch).
    B_*: critical batch size scale in tokens (B_crit(L) = B_* / L^(1/alpha_B)).
    S_c: steps scale of L(N, S_min).
    """

    alpha_N: float
    N_c: float
    alpha_D: float
    D_c: float
    alpha_C_min: float
    C_c_min: float
    alpha_C: float
    C_c: float
    alpha_B: float
    B_star: float
    alpha_S: float
    S_c: float
    source: Source



KAPLAN2020 = KaplanSingleFits(
    alpha_N=0.076, N_c=8.8e13,
    alpha_D=0.095, D_c=5.4e13,
    alpha_C_min=0.050, C_c_min=3.1e8,
    alpha_C=0.057, C_c=1.6e7,
    alpha_B=0.21, B_star=2.1e8,
    alpha_S=0.76, S_c=2.1e3,
    source=Source("kaplan2020", "Table 5", "eqs. 1.1-1.4, 1.6"),
)


@dataclass(frozen=True)
class KaplanJointFit:
    """Kaplan eq. 1.5, L(N, D) = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D.

    N: non-embedding parameters, D: tokens. Its own constants, not Table 5's.
    """

    alpha_N: float
    alpha_D: float
    N_c: float
    D_c: float
    source: Source


KAPLAN2020_ND = KaplanJointFit(
    alpha_N=0.076, alpha_D=0.103, N_c=6.4e13, D_c=1.8e13,
    source=Source("kaplan2020", "eq. 1.5, Table 2"),
)


@dataclass(frozen=True)
class KaplanAllocationFit:
    """Kaplan's compute-efficient allocation, X = X_e * C_min^p_X with C_min in PF-days.

    N_opt: non-embedding parameters; B: batch size in tokens; S_min: steps;
    D_opt: tokens.
    """

    N_e: float
    p_N: float
    B_e: float
    p_B: float
    S_e: float
    p_S: float
    D_e: float
    p_D: float
    source: Source


KAPLAN2020_ALLOCATION = KaplanAllocationFit(
    N_e=1.3e9, p_N=0.73,
    B_e=2e6, p_B=0.24,
    S_e=5.4e3, p_S=0.03,
    D_e=2e10, p_D=0.27,
    source=Source("kaplan2020", "Table 6", "C_min in PF-days"),
)


@dataclass(frozen=True)
class KaplanOverfittingRule:
    """Kaplan eq. 4.4: to keep the overfitting penalty small, D >~ coefficient * N^exponent.

    N non-embedding parameters, D tokens. The paper derives it from eq. 1.5 by asking that
    L(N, D) / L(N, infinity) - 1 stay below ``delta_L`` (about the seed-to-seed variation
    of the loss); exponent ~ alpha_N / alpha_D.
    """

    coefficient: float
    exponent: float
    delta_L: float
    source: Source


KAPLAN2020_OVERFITTING = KaplanOverfittingRule(
    coefficient=5e3, exponent=0.74, delta_L=0.02,
    source=Source("kaplan2020", "Section 4.2, eq. 4.4", "D >~ (5 x 10^3) N^0.74"),
)


@dataclass(frozen=True)
class ExperimentRange:
    """The range of model and data sizes a paper's fits were made on."""

    N_min: float
    N_max: float
    D_min: float
    D_max: float
    source: Source


KAPLAN2020_RANGE = ExperimentRange(
    N_min=768, N_max=1.5e9, D_min=22e6, D_max=23e9,
    source=Source("kaplan2020", "Sections 1-4; the 22M-23B tokens in Section 3",
                  "models of 768 to 1.5 billion non-embedding parameters; "
                  "datasets of 22 million to 23 billion tokens"),
)


KAPLAN2020_WARMUP_STEPS = 3000
KAPLAN2020_TRAIN_STEPS = 250_000
KAPLAN2020_TRAINING_SOURCE = Source(
    "kaplan2020", "Section 2.2 (training procedures)",
    "'Unless otherwise noted, we train models with the Adam optimizer for a fixed 2.5 x 10^5 "
    "steps with a batch size of 512 sequences of 1024 tokens' ... 'all training runs included "
    "in our data used a learning rate schedule with a 3000 step linear warmup followed by a "
    "cosine decay to zero' (checked against the paper's text); the same warmup in steps for "
    "every model size")
"""Kaplan et al.'s warmup, 3000 of their 2.5e5 optimizer steps (1.2% of a full run), the same
for every size (kaplan2020, Section 2.2; see :data:`KAPLAN2020_TRAINING_SOURCE`)."""


# --------------------------------------------------------------------------------------
# Hoffmann et al. 2022, "Training Compute-Optimal Large Language Models" (Chinchilla)
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StandardErrors:
    """Standard errors of a Chinchilla-form fit (same units as the estimates)."""

    E: float
    A: float
    B: float
    alpha: float
    beta: float


@dataclass(frozen=True)
class ChinchillaConstants:
    """L(N, D) = E + A / N^alpha + B / D^beta, N total parameters, D tokens, L nats/token."""

    E: float
    A: float
    B: float
    alpha: float
    beta: float
    source: Source
    se: StandardErrors | None = None


@dataclass(frozen=True)
class ChinchillaLogFit:
    """The same law with log-parameters, as some sources print it (natural logs)."""

    log_E: float
    log_A: float
    log_B: float
    alpha: float
    beta: float
    source: Source

    def to_constants(self) -> ChinchillaConstants:
        return ChinchillaConstants(E=math.exp(self.log_E), A=math.exp(self.log_A),
                             B=math.exp(self.log_B), alpha=self.alpha, beta=self.beta,
                             source=self.source)


HOFFMANN2022_RANGE = ExperimentRange(
    N_min=70e6, N_max=16e9, D_min=5e9, D_max=500e9,
    source=Source("hoffmann2022", "Abstract",
                  "'over 400 language models ranging from 70 million to over 16 billion "
                  "parameters on 5 to 500 billion tokens'"),
)
HOFFMANN2022_FITTED_FLOPS = (6 * 70e6 * 5e9, 6 * 16e9 * 500e9)
"""The widest C = 6 N D the abstract's ranges allow (2.1e18 to 4.8e22 FLOPs): a bound derived
from HOFFMANN2022_RANGE, not a printed number. (The IsoFLOP budgets of Section 3.2, Figure 3,
are often quoted as 6e18 to 3e21 FLOPs; we could not check that figure against the paper here.)
The Approach 3 fit and Besiroglu et al.'s refit of it use these runs, so both carry this range."""

HOFFMANN2022_APPROACH3 = ChinchillaConstants(
    E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28,
    source=Source("hoffmann2022", "Appendix D.2, eq. 10",
                  "rounded, as printed; Section 3.3 gives the functional form"),
)

HOFFMANN2022_HUBER_OBJECTIVE = Source(
    "hoffmann2022", "Section 3.3, eq. 3 and Appendix D.2, eq. 11",
    "the objective is printed as a sum of Huber terms over runs (delta = 1e-3, "
    "L-BFGS); that the authors' code averaged them instead is their later "
    "confirmation, reported by besiroglu2024")
"""Where the Approach 3 objective is printed, and what the paper says about it."""

HOFFMANN2022_KAPLAN_10X = (5.5, 1.8)
"""Hoffmann et al.'s summary of Kaplan's allocation: for 10x compute, a model 5.5x
larger and 1.8x more tokens (hoffmann2022, Section 1). Their numbers, as printed; the
book's own 10^0.73 and 10^0.27 come from Kaplan's Table 6 exponents."""

HOFFMANN2022_KAPLAN_10X_SOURCE = Source("hoffmann2022", "Section 1 (Introduction)",
                                        "'the size of the model should increase 5.5x "
                                        "while the number of training tokens should "
                                        "only increase 1.8x'")

HOFFMANN2022_APPROACH3_UNROUNDED_LOGS = ChinchillaLogFit(
    log_E=0.5267228, log_A=6.0073404, log_B=6.0179186, alpha=0.33917084, beta=0.2849083,
    source=Source("hoffmann2022", "Approach 3, unrounded",
                  "from the arXiv TeX source, as reported by besiroglu2024"),
)
HOFFMANN2022_APPROACH3_UNROUNDED: ChinchillaConstants = (
    HOFFMANN2022_APPROACH3_UNROUNDED_LOGS.to_constants())


@dataclass(frozen=True)
class AllocationExponents:
    """N_opt proportional to C^a and D_opt proportional to C^b."""

    method: str
    a: float
    b: float
    source: Source
    a_interval: tuple[float, float] | None = None
    b_interval: tuple[float, float] | None = None


_T2 = Source("hoffmann2022", "Table 2",
             "point estimates; the intervals are the brackets printed there: 10th-90th "
             "percentiles of a bootstrap, not standard errors")
HOFFMANN2022_TABLE2 = (
    AllocationExponents("Approach 1: minimum over training curves", 0.50, 0.50, _T2,
                        (0.488, 0.502), (0.501, 0.512)),
    AllocationExponents("Approach 2: IsoFLOP profiles", 0.49, 0.51, _T2,
                        (0.462, 0.534), (0.483, 0.529)),
    AllocationExponents("Approach 3: parametric loss fit", 0.46, 0.54, _T2,
                        (0.454, 0.455), (0.542, 0.543)),
    AllocationExponents("Kaplan et al. (2020)", 0.73, 0.27, _T2),
)


@dataclass(frozen=True)
class ComputeOptimalRow:
    """One row of Hoffmann Table 3: total parameters, training FLOPs, training tokens."""

    params: float
    flops: float
    tokens: float


HOFFMANN2022_TABLE3_SOURCE = Source("hoffmann2022", "Table 3", "projections of Approach 1")
HOFFMANN2022_TABLE3 = (
    ComputeOptimalRow(400e6, 1.92e19, 8.0e9),
    ComputeOptimalRow(1e9, 1.21e20, 20.2e9),
    ComputeOptimalRow(10e9, 1.23e22, 205.1e9),
    ComputeOptimalRow(67e9, 5.76e23, 1.5e12),
    ComputeOptimalRow(175e9, 3.85e24, 3.7e12),
    ComputeOptimalRow(280e9, 9.90e24, 5.9e12),
    ComputeOptimalRow(520e9, 3.43e25, 11.0e12),
    ComputeOptimalRow(1e12, 1.27e26, 21.2e12),
    ComputeOptimalRow(10e12, 1.30e28, 216.2e12),
)


# --------------------------------------------------------------------------------------
# Besiroglu et al. 2024 (Epoch AI), "Chinchilla Scaling: A replication attempt"
# --------------------------------------------------------------------------------------

# Standard errors: the paper's Table 1 as printed, not the repository notebook's
# unrounded output (0.0257 / 124.5 / 1293 / 0.0154 / 0.0206). The book cites the
# paper, and a reader holding the paper can check these digits against it.
BESIROGLU2024 = ChinchillaConstants(
    E=1.8172, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658,
    source=Source("besiroglu2024", "Table 1 (refit of Approach 3)",
                  "Huber loss summed, on data reconstructed from Hoffmann et al.'s plots; "
                  "standard errors in parentheses as printed in Table 1"),
    se=StandardErrors(E=0.03, A=124.58, B=1293.23, alpha=0.02, beta=0.02),
)


# --------------------------------------------------------------------------------------
# Muennighoff et al. 2023, "Scaling Data-Constrained Language Models"
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DataConstrainedFit:
    """L = E + A / N'^alpha + B / D'^beta with effective N', D' (natural-log constants).

    D' = U_D + U_D R_D* (1 - exp(-R_D / R_D*)), R_D = D / U_D - 1 repetitions of the
    U_D unique tokens; N' likewise with U_N base parameters and R_N*.
    """

    log_E: float
    log_A: float
    log_B: float
    alpha: float
    beta: float
    R_D_star: float
    R_N_star: float
    source: Source

    @property
    def E(self) -> float:
        return math.exp(self.log_E)

    @property
    def A(self) -> float:
        return math.exp(self.log_A)

    @property
    def B(self) -> float:
        return math.exp(self.log_B)


MUENNIGHOFF2023 = DataConstrainedFit(
    log_E=0.6254804, log_A=6.255414, log_B=7.3049974,
    alpha=0.3526596, beta=0.3526596,
    R_D_star=15.387756, R_N_star=5.309743,
    source=Source("muennighoff2023", "Appendix A, eq. 17 (fitted data-constrained law)",
                  "E ~ 1.869, A ~ 521, B ~ 1488"),
)


# --------------------------------------------------------------------------------------
# Models the chapters refer to
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ModelRecord:
    """A published model: nominal parameter count, training tokens and (if given) shape.

    ``params`` is the nominal size as the paper names it, not a recount; build a
    :class:`scaling_lab.flops.GPTShape` from the shape fields to count exactly.
    ``d_ff`` is the feed-forward width where the paper states it; ``n_kv_head`` the
    number of key/value heads of grouped-query attention (None: one per query head).
    """

    name: str
    params: float
    tokens: float | None
    source: Source
    n_layer: int | None = None
    d_model: int | None = None
    n_head: int | None = None
    vocab_size: int | None = None
    n_ctx: int | None = None
    flops: float | None = None
    note: str = ""
    d_ff: int | None = None
    n_kv_head: int | None = None
    tied_embeddings: bool | None = None


CHINCHILLA = ModelRecord(
    "Chinchilla", 70e9, 1.4e12,
    Source("hoffmann2022", "Table 1 (size, tokens), Table 4 (shape)",
           "Table 4's caption: 'The feed-forward size is always set to 4 x d_model'"),
    n_layer=80, d_model=8192, n_head=64, vocab_size=32000, n_ctx=2048, d_ff=4 * 8192,
    note="key/value size 128; feed-forward size 4 x d_model (Table 4 caption); "
         "2048-token context and relative position encodings as for Gopher (rae2021). "
         "The stated shape counts to about 64.7B, not 70B; the paper does not explain "
         "the difference. Tokenizer: a slightly modified SentencePiece without NFKC "
         "normalisation, 94.15% of its tokens the same as Gopher's 32,000-token "
         "vocabulary (Section 4.1)",
)

CHINCHILLA_VOCAB_SHARED_WITH_GOPHER: float = 0.9415
"""Share of Chinchilla's tokenizer vocabulary that is the same as Gopher's, printed as
'94.15%' (hoffmann2022, Section 4.1)."""

CHINCHILLA_TOKENIZER_SOURCE = Source(
    "hoffmann2022", "Section 4.1",
    "slightly modified SentencePiece tokenizer that does not apply NFKC normalisation; "
    "94.15% of tokens the same as those used for training Gopher")
GOPHER = ModelRecord(
    "Gopher", 280e9, 300e9,
    Source("rae2021", "Table 1 (shape)", "size, 300B tokens and shape also in hoffmann2022 Tables 1 and 4"),
    n_layer=80, d_model=16384, n_head=128, vocab_size=32000, n_ctx=2048,
    note="key/value size 128; SentencePiece vocabulary of 32,000 tokens",
)
GPT2_SMALL = ModelRecord(
    "GPT-2 small", 117e6, None,
    Source("radford2019", "Table 2 and Section 2.3"),
    n_layer=12, d_model=768, n_head=12, vocab_size=50257, n_ctx=1024,
    note="117M is the size as printed; the exact count for this shape with a tied head "
         "is 124,439,808. 12 heads as in GPT-1, which GPT-2 follows",
)
GPT3 = ModelRecord(
    "GPT-3 175B", 175e9, 300e9,
    Source("brown2020", "Table 2.1 (shape), Section 2.2 (300B tokens)"),
    n_layer=96, d_model=12288, n_head=96, n_ctx=2048, flops=3.14e23,
    note="training compute 3.14e23 FLOPs (3,640 PF-days) from brown2020 Table D.1",
)
LLAMA_65B = ModelRecord(
    "LLaMA 65B", 65.2e9, 1.4e12, Source("touvron2023", "Table 2"),
    n_layer=80, d_model=8192, n_head=64,
    note="SwiGLU MLP and rotary positions: not a GPTShape",
)
LLAMA2_70B = ModelRecord("Llama 2 70B", 70e9, 2e12, Source("touvron2023llama2", "Table 1"))
LLAMA3_8B = ModelRecord(
    "Llama 3 8B", 8e9, 15e12,
    Source("dubey2024", "Section 1 ('about 15T' tokens), Table 3 (shape)"),
    n_layer=32, d_model=4096, n_head=32, n_kv_head=8, d_ff=14336, vocab_size=128000,
    n_ctx=8192, tied_embeddings=False,
    note="SwiGLU feed-forward of width 14,336, grouped-query attention with 8 key/value "
         "heads, RMSNorm, rotary positions, untied output layer (Table 3, Section 3.2); "
         "'about 15T' tokens (Section 1). Table 3 prints the vocabulary as 128,000 "
         "('128K tokens'); the released checkpoint's embedding has 128,256 rows",
)
LLAMA3_8B_RELEASED_VOCAB: int = 128256
"""Rows of the released Llama 3 8B embedding matrix (Table 3's 128,000 plus reserved
special tokens), from the model's published configuration, not from the paper."""
LLAMA3_70B = ModelRecord("Llama 3 70B", 70e9, 15e12, Source("dubey2024", "Section 1"),
                         note="'about 15T' tokens")
LLAMA3_405B = ModelRecord("Llama 3 405B", 405e9, 15.6e12, Source("dubey2024", "Section 3"),
                          flops=3.8e25)

MODELS = (GPT2_SMALL, GPT3, GOPHER, CHINCHILLA, LLAMA_65B, LLAMA2_70B,
          LLAMA3_8B, LLAMA3_70B, LLAMA3_405B)


# --------------------------------------------------------------------------------------
# Later reconciliations and extensions
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TotalFromNonEmbedding:
    """N_total ~ N_nonemb + coefficient * N_nonemb^exponent (Pearce & Song's fit over
    Chinchilla's model shapes, used to translate Kaplan's N into Hoffmann's)."""

    coefficient: float
    exponent: float
    source: Source


PEARCE2024 = TotalFromNonEmbedding(
    coefficient=47491, exponent=1 / 3,
    source=Source("pearce2024", "relation between total and non-embedding parameters"),
)


@dataclass(frozen=True)
class ExponentStep:
    """One step of a factor-by-factor correction: label and the fitted exponent a."""

    label: str
    a: float


PORIAN2024_SOURCE = Source(
    "porian2024", "Figure 1 (RefinedWeb); step labels as in the authors' figure configs",
    "exponent a of N_opt proportional to C^a after each correction. The last step "
    "starts from the corrected warmup, not from the cosine decay: learning rate, batch "
    "size and AdamW beta2 tuned per scale, with a constant learning rate. The abstract: "
    "'careful learning rate decay is not essential for the validity of their scaling "
    "law'")
PORIAN2024_REFINEDWEB = (
    ExponentStep("Reproducing Kaplan et al.", 0.835),
    ExponentStep("Counting last layer FLOPs", 0.706),
    ExponentStep("Correcting warmup", 0.602),
    ExponentStep("Cosine decay", 0.571),
    ExponentStep("Optimizer tuning (no decay)", 0.497),
)
PORIAN2024_DECAY_NOT_ESSENTIAL = (
    "Counter to a hypothesis of Hoffmann et al., we find that careful learning rate "
    "decay is not essential for the validity of their scaling law.")
"""The abstract's sentence, as printed (porian2024, Abstract)."""

@dataclass(frozen=True)
class Accelerator:
    """An accelerator's peak throughput as the vendor states it (not a measured rate)."""

    name: str
    peak_flops_per_s: float
    precision: str
    source: Source


A100_BF16 = Accelerator(
    "NVIDIA A100", 312e12, "bf16/fp16 tensor core, dense (no sparsity)",
    Source("nvidia2020a100", "vendor specification", "peak, not a measured throughput"),
)


HAGELE2024 = Source("hagele2024", "constant learning rate with cooldown (WSD schedule)")
SARDANA2024 = Source("sardana2024", "inference-aware objective: training plus inference FLOPs")


@dataclass(frozen=True)
class EmergenceMetrics:
    """Share of BIG-Bench's reported emergent abilities that appear under just two metrics:
    Exact String Match, which is *nonlinear* in the per-token loss (all k tokens right:
    p^k), and Multiple Choice Grade, which is *discontinuous* (a step when the right option
    overtakes the others)."""

    share_two_metrics: float
    source: Source


SCHAEFFER2023 = EmergenceMetrics(
    share_two_metrics=0.92,
    source=Source("schaeffer2023", "Section 4 (BIG-Bench meta-analysis)",
                  "printed as '>92%': a lower bound"),
)


@dataclass(frozen=True)
class LossPrediction:
    """A published prediction of a large run's final loss from smaller runs."""

    max_compute_ratio: float   # the largest run trained for the prediction used this many times less compute
    form: str
    source: Source


OPENAI2023_GPT4 = LossPrediction(
    max_compute_ratio=1e4, form="L(C) = a C^b + c (power law with an irreducible loss term)",
    source=Source("openai2023gpt4", "Section 3.1 (loss prediction)",
                  "final loss predicted from models trained with at most 10,000x less compute"),
)


@dataclass(frozen=True)
class TrainingFootprint:
    """A published estimate of the energy and emissions of one training run."""

    model: str
    energy_mwh: float          # electricity for the training run, megawatt-hours
    co2e_tonnes: float         # metric tonnes of CO2 equivalent
    source: Source


PATTERSON2021_GPT3 = TrainingFootprint(
    "GPT-3 175B", energy_mwh=1287.0, co2e_tonnes=552.0,
    source=Source("patterson2021", "Table 4 (GPT-3 column)",
                  "the authors' estimate for V100 GPUs in a Microsoft datacenter"),
)
PATTERSON2021_SPARSE_ENERGY = 0.1
"""Patterson et al.'s abstract: large, sparsely activated networks can use "<1/10th the energy"
of large dense ones "without sacrificing accuracy" (an upper bound, printed as <1/10th)."""
PATTERSON2021_SPARSE_SOURCE = Source("patterson2021", "Abstract")


@dataclass(frozen=True)
class SparseSpeedup:
    """A published speed-up of a sparse (mixture-of-experts) model over its dense baseline at
    the same computational resources per token."""

    speedup: float
    baseline: str
    source: Source


FEDUS2022_SWITCH = SparseSpeedup(
    7.0, "T5-Base and T5-Large (Switch models designed from them)",
    Source("fedus2022", "Abstract", "'up to 7x increases in pre-training speed with the same "
           "computational resources'"),
)
FEDUS2022_SWITCH_XXL = SparseSpeedup(
    4.0, "T5-XXL (trillion-parameter Switch model)",
    Source("fedus2022", "Abstract", "'a 4x speedup over the T5-XXL model'"),
)


@dataclass(frozen=True)
class HyperparameterLaw:
    """A published power law for a hyperparameter in the compute budget: value = coefficient *
    C^exponent, C in FLOPs counted the source's way (see its docstring)."""

    coefficient: float
    exponent: float
    quantity: str
    source: Source

    def __call__(self, C):
        """The law's value at compute budget(s) ``C`` (FLOPs, the source's count)."""
        import numpy as np

        return self.coefficient * np.asarray(C, dtype=float) ** self.exponent


BI2024_SOURCE = Source(
    "bi2024", "Section 3.1, eq. (1) and Figure 3",
    "fitted on compute budgets from 1e17 to 2e19 FLOPs; 'near-optimal' = generalization error "
    "within 0.25% of the minimum. C = M D (Section 3.2, eq. 2): M is non-embedding FLOPs per "
    "token, 72 n_layer d_model^2 + 12 n_layer d_model l_seq (attention included, vocabulary "
    "excluded), D tokens")
BI2024_LR = HyperparameterLaw(0.3118, -0.1250, "peak learning rate eta_opt", BI2024_SOURCE)
"""DeepSeek LLM's optimal peak learning rate, eta_opt = 0.3118 * C^(-0.1250) (bi2024, Section
3.1, eq. 1). C in FLOPs as the paper counts them: C = M D with M the non-embedding FLOPs per
token of eq. 2 (not 6N, not the full count of ``scaling_lab.flops``). The schedule behind it is
the paper's multi-step one (2000 warmup steps; 31.6% of the peak after 80% of the tokens, 10%
after 90%), AdamW beta2 0.95, weight decay 0.1 (Section 2.3). Constants, equation and section
checked against a transcription of the paper's text (arXiv:2401.02954), not the PDF itself; a
lecture slide that reproduces a table of such laws prints 0.3188, the paper 0.3118."""
BI2024_BATCH = HyperparameterLaw(0.2920, 0.3271, "batch size B_opt in tokens", BI2024_SOURCE)
"""DeepSeek LLM's optimal batch size, B_opt = 0.2920 * C^(0.3271) (bi2024, Section 3.1, eq. 1),
C as for :data:`BI2024_LR`. The text does not name B's unit; tokens is what reproduces Table 2
(7B: 2304 sequences of 4096 = 9.4M tokens, the law gives 9.2M at C = M x 2T tokens)."""
BI2024_TABLE2 = {
    "7B": dict(n_layer=30, d_model=4096, n_heads=32, n_kv_heads=32, n_ctx=4096,
               batch_sequences=2304, lr=4.2e-4, tokens=2.0e12),
    "67B": dict(n_layer=95, d_model=8192, n_heads=64, n_kv_heads=8, n_ctx=4096,
                batch_sequences=4608, lr=3.2e-4, tokens=2.0e12),
}
"""DeepSeek LLM's two models as Table 2 prints them (bi2024, Table 2): the batch size is in
sequences of ``n_ctx`` tokens; learning rate and batch were chosen from eq. 1."""


def bi2024_flops_per_token(n_layer: int, d_model: int, n_ctx: int) -> float:
    """M, non-embedding FLOPs per token, as DeepSeek LLM defines it (bi2024, Section 3.2, eq. 2):
    ``72 n_layer d_model^2 + 12 n_layer d_model l_seq`` (forward and backward, attention
    included, vocabulary excluded). Their C is M times tokens."""
    return 72.0 * n_layer * d_model**2 + 12.0 * n_layer * d_model * n_ctx


BIBTEX_KEYS = (
    "kaplan2020", "hoffmann2022", "besiroglu2024", "muennighoff2023", "rae2021",
    "radford2019", "brown2020", "touvron2023", "touvron2023llama2", "dubey2024",
    "pearce2024", "porian2024", "hagele2024", "sardana2024", "nvidia2020a100",
    "schaeffer2023", "openai2023gpt4", "patterson2021", "fedus2022", "bi2024",
)
"""Every bibtex key this module cites (all present in ``book/references.bib``)."""
