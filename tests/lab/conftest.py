import os
import sys

import pytest
import torch

# tiny, fast settings shared by the lab tests
TINY_CORPUS = "markov:order=1,alphabet=8,train_bytes=60000,val_bytes=8000"


@pytest.fixture(autouse=True)
def _one_thread():
    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(prev)


def tiny_spec(**kw):
    from scaling_lab.lab.spec import RunSpec

    base = dict(n_layer=1, d_model=16, n_head=2, tokens=8 * 32 * 40, n_ctx=32, batch_size=8,
                warmup_steps=5, corpus=TINY_CORPUS, eval_batches=2)
    base.update(kw)
    return RunSpec(**base)


@pytest.fixture
def env_pythonpath():
    """Environment for subprocesses: the package importable, one thread."""
    env = dict(os.environ)
    src = os.path.join(os.path.dirname(__file__), "..", "..", "src")
    env["PYTHONPATH"] = os.path.abspath(src) + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    return env


PY = sys.executable
