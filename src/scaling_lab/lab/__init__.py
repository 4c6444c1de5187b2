"""The training lab: tiny GPTs on a CPU (or a GPU, or several) that show real scaling laws.

``corpus`` (offline byte corpora) -> ``model`` (a nanoGPT-style decoder) -> ``train`` (one run ->
``RunResult``) -> ``sweep`` (plans, a resumable parallel runner) -> ``store`` (append-only results,
``to_frame()`` for ``scaling_lab.fitting``); ``presets`` names the smoke / book / gpu sweeps.
"""

from .corpus import Corpus, MarkovSource, load_corpus, parse_corpus
from .model import GPT
from .store import ResultStore
from .sweep import Plan, grid_plan, isoflop_plan, run_plan, wsd_plan
from .tokens import bytes_per_token, bytes_per_token_table, tokens_per_parameter, train_bpe
from .train import RunResult, RunSpec, lr_rule, train, train_wsd_group

__all__ = [
    "Corpus", "MarkovSource", "load_corpus", "parse_corpus", "GPT", "ResultStore", "Plan",
    "grid_plan", "isoflop_plan", "run_plan", "wsd_plan", "RunResult", "RunSpec", "lr_rule",
    "train", "train_wsd_group", "train_bpe", "bytes_per_token", "bytes_per_token_table",
    "tokens_per_parameter",
]
