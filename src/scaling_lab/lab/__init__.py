"""The training lab: tiny GPTs on a CPU (or a GPU, or several) that show real scaling laws.

``corpus`` (offline byte corpora; ``markov`` the synthetic source) -> ``model`` (a nanoGPT-style
decoder) -> ``spec`` (a run's :class:`RunSpec` and :class:`RunResult`) -> ``trainer`` (the loop,
for any model returning ``(logits, loss)``) and ``wsd`` (cooldown branches) -> ``plans`` and
``sweep`` (plans, a resumable parallel runner, named presets) -> ``store`` (append-only results,
``to_frame()`` for ``scaling_lab.fitting``); ``presets`` names the smoke / book / gpu sweeps;
``tokens`` measures the corpus in BPE tokens as well as bytes.
"""

# the old module path first: importing it later would rebind ``scaling_lab.lab.train`` (the
# function below) to the module
from . import train as _old_train_module  # noqa: F401
from .corpus import Corpus, MarkovSource, load_corpus, parse_corpus
from .model import GPT
from .spec import RunResult, RunSpec, lr_rule
from .store import ResultStore
from .plans import Plan, grid_plan, isoflop_plan, lr_plan, wsd_plan
from .sweep import run_plan
from .tokens import bytes_per_token, bytes_per_token_table, tokens_per_parameter, train_bpe
from .trainer import Trainer, train
from .wsd import train_wsd_group

__all__ = [
    "Corpus", "MarkovSource", "load_corpus", "parse_corpus", "GPT", "ResultStore", "Plan",
    "grid_plan", "isoflop_plan", "lr_plan", "run_plan", "wsd_plan", "RunResult", "RunSpec",
    "lr_rule", "Trainer", "train", "train_wsd_group", "train_bpe", "bytes_per_token",
    "bytes_per_token_table", "tokens_per_parameter",
]
