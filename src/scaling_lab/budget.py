"""A compute budget for training runs, enforced like a research budget.

::

    from scaling_lab.budget import Budget

    b = Budget(1e18, store="my_budget.json")           # simulator backend (the default)
    r = b.train(N=20_000_000, D=400_000_000)           # charges 6 N D = 4.8e16 FLOPs
    r["loss"], b.spent, b.remaining, b.history         # the result; what is used and left
    b.train(N=20_000_000, D=400_000_000)               # the same query again: from the store, free

    lab = Budget(5e12, store="lab_budget.json", backend="lab")
    lab.train(shape=(2, 48, 3), tokens=1_048_576)      # a real tiny-GPT run (scaling_lab.lab)

What is charged
---------------
* ``simulator``: ``C = 6 N D`` with N the model's (total) parameters and D its training tokens,
  the count Hoffmann et al. use and the one the simulator's law is written in.
* ``lab``: the FLOPs of the tokens the run actually trains (whole optimizer steps) times the
  FLOPs per token of its shape, counted ``"full"`` (attention and the vocabulary projection
  included, the lab's presets' count) or ``"6N"`` (``count="6N"``, N total parameters).

``Budget.cost(**query)`` says what a query would cost without running it.

Backends
--------
* ``simulator`` (:class:`SimulatorBackend`): a known Chinchilla-form law
  ``L = E + A/N^alpha + B/D^beta`` with multiplicative log-normal noise whose seed is derived from
  the query (world, N, D, seed): the same query always gives the same loss, on any machine, in
  microseconds. ``world`` picks the law's constants (:func:`world_law`), so an assignment can give
  every class (or student) a different world whose answer is not in any paper.
* ``world`` (:class:`scaling_lab.world.WorldBackend`): assignment A3's world to discover, a
  loss that depends on shape, learning rate, batch and data, drawn per course from a key;
  ``train(n_layer=, d_model=, tokens=, lr=, batch=)``, charged its FULL FLOPs.
* ``lab`` (:class:`LabBackend`): trains a tiny GPT with :func:`scaling_lab.lab.train` (CPU-sized
  defaults of the lab's book preset) and reports its final validation loss.

The store
---------
One JSON file holds the budget (total, backend configuration) and every run charged against it.
Every change happens under an exclusive ``flock`` on ``<store>.lock`` and is written atomically
(temporary file, ``fsync``, ``os.replace``), so any number of ``Budget`` objects, in any number of
processes, share one spent total and can never overspend it together. A run is *charged before it
trains* (its record is "pending"); a run whose training raises is refunded. A pending run left by
a killed process is retrained, without a second charge, by the next request for it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import socket
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ._validate import chinchilla_like, integer, number

FORMAT = "scaling_lab.budget/1"
BACKENDS = ("simulator", "lab", "world")
COUNTS = ("full", "6N")


def _digest(obj) -> str:
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


# ============================================================================ backends
def world_law(world: int = 0):
    """The simulator's true law for ``world`` (an integer): a :class:`~scaling_lab.laws.ChinchillaLaw`
    ``L = E + A/N^alpha + B/D^beta`` (N total parameters) whose constants are drawn once from
    plausible ranges, so that every world has its own compute-optimal allocation and none is
    printed in a paper. The draw: alpha, beta uniform in [0.28, 0.42], E in [1.6, 2.1] nats/token;
    at the reference budget C = 1e19 FLOPs (C = 6ND) the optimum has between 10 and 40 tokens per
    parameter and a reducible loss L - E between 0.8 and 1.4; A and B follow from those (at the
    optimum, A N^-alpha : B D^-beta = beta : alpha). The same world always gives the same law."""
    from .laws import ChinchillaLaw

    world = integer("world", world)
    rng = np.random.default_rng([world, 0x5CA1AB])
    alpha, beta = (float(v) for v in rng.uniform(0.28, 0.42, 2))
    E = float(rng.uniform(1.6, 2.1))
    tpp = float(rng.uniform(10.0, 40.0))
    R = float(rng.uniform(0.8, 1.4))
    N = math.sqrt(WORLD_REFERENCE_FLOPS / (6.0 * tpp))
    D = tpp * N
    A = R * beta / (alpha + beta) * N ** alpha
    B = R * alpha / (alpha + beta) * D ** beta
    return ChinchillaLaw(E, A, B, alpha, beta, name=f"simulator-world-{world}")



def world_runs(world: int, budgets, sizes_per_budget: int = 7, noise: float = 0.01,
               seed: int = 0, span: float = 0.75):
    """An IsoFLOP sweep in simulator world ``world`` as an experimenter sees it: a DataFrame with
    the columns C, N, D and loss (with multiplicative log-normal ``noise``, seeded by ``seed``),
    and nothing of the law (no noise-free loss; :func:`world_law` is the instructor's side).

    For each budget C, ``sizes_per_budget`` sizes log-spaced over ``span`` decades either side
    of N = sqrt(C / 120), where Chinchilla's rule of thumb of twenty tokens per parameter puts
    the optimum (D = C / (6 N) tokens each): centred there, not at the world's own optimum,
    which would give the answer away. Every world's optimum lies within 0.16 decades of it at
    C = 1e19 (10 to 40 tokens per parameter), well inside the default span."""
    from .simulate import simulate_runs

    from ._validate import column

    law = world_law(world)
    C = column("budgets", budgets, hint=" (FLOP budgets)")
    runs = simulate_runs(law, budgets, sizes_per_budget, noise=noise, seed=seed, span=span,
                         center=np.sqrt(C / 120.0))
    return runs.drop(columns=["loss_true"])


WORLD_REFERENCE_FLOPS = 1e19


class SimulatorBackend:
    """Training runs drawn from a known law: ``loss = L(N, D) * exp(noise * z)``, z a standard
    normal seeded by the query, so repeated queries agree. N are total parameters, D tokens; the
    cost is ``6 N D``. ``law`` (a ChinchillaLaw) overrides ``world``."""

    name = "simulator"

    def __init__(self, world: int = 0, noise: float = 0.005, law=None):
        self.noise = number("noise", noise, allow_zero=True, note=" (0.005 = 0.5 % of the loss)")
        self.world = int(world) if law is None else None
        self.law = world_law(world) if law is None else law
        chinchilla_like(self.law)

    def config(self) -> dict:
        # the law enters as a digest: the ledger identifies the world without printing its answer
        law = {k: float(getattr(self.law, k)) for k in ("E", "A", "B", "alpha", "beta")}
        return {"backend": "simulator", "world": self.world, "noise": self.noise,
                "law_digest": _digest(law)}

    def query(self, N=None, D=None, seed: int = 0, **extra) -> dict:
        if extra:
            raise ValueError(f"the simulator backend takes N= (parameters), D= (tokens) and seed=; "
                             f"got also {sorted(extra)} (shape/tokens are for backend='lab')")
        if N is None or D is None:
            raise ValueError("the simulator backend needs N= (parameters) and D= (training tokens), "
                             "e.g. budget.train(N=2e7, D=4e8)")
        N = int(round(number("N", N, minimum=1, note=" (a count)")))
        D = int(round(number("D", D, minimum=1, note=" (a count)")))
        return {"N": N, "D": D, "seed": integer("seed", seed)}

    def cost(self, q: dict) -> tuple[float, str]:
        return 6.0 * q["N"] * q["D"], f"6 N D with N={q['N']:.4g}, D={q['D']:.4g}"

    def run(self, q: dict) -> dict:
        truth = float(self.law.loss(q["N"], q["D"]))
        key = _digest({"config": self.config(), "query": q})
        z = np.random.default_rng(int(key, 16)).standard_normal()
        return {"N": q["N"], "D": q["D"], "loss": truth * math.exp(self.noise * z),
                "status": "ok"}


class LabBackend:
    """Real tiny-GPT runs through :func:`scaling_lab.lab.train`. A query is a shape
    (``shape=(n_layer, d_model, n_head)`` or the three keywords) and ``tokens``; any other
    :class:`~scaling_lab.lab.RunSpec` field may be passed per query or as a default here.
    Defaults are the lab's book preset on a CPU: stdlib byte corpus, n_ctx 128, batch 16, cosine."""

    name = "lab"
    DEFAULTS = dict(n_ctx=128, batch_size=16, warmup_steps=50, corpus="stdlib", seed=0,
                    schedule="cosine")

    def __init__(self, count: str = "full", device=None, **spec_defaults):
        if count not in COUNTS:
            raise ValueError(f"count must be one of {COUNTS} (FLOPs charged per token); got {count!r}")
        from .lab.spec import RunSpec

        fields = set(RunSpec.__dataclass_fields__)
        bad = set(spec_defaults) - fields
        if bad:
            raise ValueError(f"unknown RunSpec fields {sorted(bad)} for the lab backend; "
                             f"known: {sorted(fields)}")
        self.count = count
        self.device = device
        self.defaults = {**self.DEFAULTS, **spec_defaults}

    def config(self) -> dict:
        return {"backend": "lab", "count": self.count, "defaults": self.defaults}

    def query(self, shape=None, tokens=None, **fields) -> dict:
        from .lab.spec import RunSpec

        if "N" in fields or "D" in fields:
            raise ValueError("the lab backend takes a shape and tokens, e.g. "
                             "budget.train(shape=(2, 48, 3), tokens=1_048_576); N= and D= are "
                             "for backend='simulator'")
        if shape is not None:
            if len(tuple(shape)) != 3:
                raise ValueError(f"shape must be (n_layer, d_model, n_head); got {shape!r}")
            fields.update(zip(("n_layer", "d_model", "n_head"), (int(v) for v in shape)))
        missing = [k for k in ("n_layer", "d_model", "n_head") if k not in fields]
        if missing or tokens is None:
            raise ValueError("the lab backend needs shape=(n_layer, d_model, n_head) (or those "
                             "keywords) and tokens=, e.g. budget.train(shape=(2, 48, 3), "
                             "tokens=1_048_576)")
        tokens = int(round(number("tokens", tokens, minimum=1, note=" (a count)")))
        spec = RunSpec(**{**self.defaults, **fields, "tokens": tokens})  # validates the fields
        return spec.to_dict()

    def cost(self, q: dict) -> tuple[float, str]:
        from .flops import flops_per_token
        from .lab.spec import RunSpec

        spec = RunSpec.from_dict(q)
        trained = spec.steps * spec.tokens_per_step
        fpt = float(flops_per_token(spec.shape(), method=self.count))
        return trained * fpt, (f"{trained:,} tokens x {fpt:.4g} FLOPs/token ({self.count}) for "
                               f"{spec.n_layer}x{spec.d_model}")

    def run(self, q: dict) -> dict:
        from .lab.spec import RunSpec
        from .lab.trainer import train

        res = train(RunSpec.from_dict(q), device=self.device, progress=False)
        fin = res.final
        return {"N": res.info["params_total"], "N_non_embedding": res.info["params_non_embedding"],
                "D": fin.get("tokens", q["tokens"]), "loss": fin.get("val_loss"),
                "train_loss": fin.get("train_loss"), "status": res.status,
                "wall_s": fin.get("wall_s"), "run_key": res.key}


def make_backend(backend="simulator", **options):
    """A backend from its name (``"simulator"``, ``"lab"`` or ``"world"``) and options, or an object as is."""
    if not isinstance(backend, str):
        if options:
            raise ValueError("backend options go to the backend's constructor when backend is an object")
        return backend
    if backend == "simulator":
        return SimulatorBackend(**options)
    if backend == "lab":
        return LabBackend(**options)
    if backend == "world":
        from .world import WorldBackend

        return WorldBackend(**options)
    raise ValueError(f"backend must be one of {BACKENDS}; got {backend!r}")


# ============================================================================ the budget
class Budget:
    """A total of ``total_flops`` training FLOPs, spent run by run, recorded in ``store``.

    total_flops: the budget (> 0). A store that already exists must have been created with the
                 same total and backend configuration (it is the same budget), else ValueError.
    store:       path of the JSON ledger (created with its directory if missing).
    wait_timeout: seconds ``train`` waits for a run another live process is training (None:
                 as long as that process provably runs; an owner recorded without its start
                 time, by an older version, is waited for at most ``LEGACY_WAIT_S``).
    backend:     "simulator" (default), "lab" or "world"; further keywords configure it
                 (simulator: ``world``, ``noise``, ``law``; lab: ``count``, ``device``, RunSpec
                 defaults; world: ``key`` or ``seed``, ``noise``).

    ``train(**query)`` runs and charges (or serves a repeated query free from the store);
    ``cost(**query)`` prices a query; ``spent``, ``remaining``, ``history`` (list of records),
    ``frame()`` (a DataFrame) read the shared store.
    """

    def __init__(self, total_flops, store, backend="simulator", wait_timeout=None,
                 **backend_options):
        self.total_flops = number("total_flops", total_flops)
        if wait_timeout is not None:
            number("wait_timeout", wait_timeout)
        self.wait_timeout = wait_timeout
        if store is None or str(store) == "":
            raise ValueError("store must be a file path for the budget's ledger, e.g. store='budget.json'")
        self.store = Path(store)
        self.backend = make_backend(backend, **backend_options)
        self._config = self.backend.config()
        with self._locked():
            doc = self._read()
            if doc is None:
                self._write({"format": FORMAT, "total_flops": self.total_flops,
                             "backend": self._config, "runs": []})
            else:
                self._check_same_budget(doc)

    # ------------------------------------------------------------------ store primitives
    @contextmanager
    def _locked(self):
        self.store.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(str(self.store) + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _read(self) -> dict | None:
        if not self.store.exists():
            return None
        try:
            doc = json.loads(self.store.read_text())
        except ValueError as exc:
            raise ValueError(f"store {self.store} is not a budget ledger (invalid JSON: {exc}); "
                             f"pass another store path") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ValueError(f"store {self.store} is not a budget ledger (format "
                             f"{doc.get('format') if isinstance(doc, dict) else None!r}, want "
                             f"{FORMAT!r}); pass another store path")
        why = _ledger_problem(doc)
        if why:
            raise ValueError(f"store {self.store} is a damaged budget ledger: {why}; restore it "
                             f"from a backup or pass another store path")
        return doc

    def _write(self, doc: dict) -> None:
        tmp = self.store.with_name(f".{self.store.name}.{os.getpid()}.tmp")
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.store)
        dfd = os.open(str(self.store.parent), os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

    def _check_same_budget(self, doc: dict) -> None:
        if not math.isclose(doc["total_flops"], self.total_flops, rel_tol=1e-12):
            raise ValueError(
                f"store {self.store} holds a budget of total_flops={doc['total_flops']:.6g}, not "
                f"{self.total_flops:.6g}; open it with total_flops={doc['total_flops']:.6g} or "
                f"use a new store path for a new budget")
        if doc["backend"] != json.loads(json.dumps(self._config)):
            raise ValueError(
                f"store {self.store} was made with backend options {doc['backend']}, not "
                f"{self._config}; "
                f"open it with the same backend options or use a new store path")

    def _doc(self) -> dict:
        doc = self._read()
        if doc is None:
            raise ValueError(f"store {self.store} has disappeared; create the Budget again")
        return doc

    # ------------------------------------------------------------------ reading
    @staticmethod
    def _spent(doc) -> float:
        return float(sum(r["flops"] for r in doc["runs"]))

    @property
    def spent(self) -> float:
        """FLOPs charged so far (finished and in-progress runs), by every user of the store."""
        return self._spent(self._doc())

    @property
    def remaining(self) -> float:
        return max(0.0, self.total_flops - self.spent)

    @property
    def history(self) -> list[dict]:
        """Every run charged, in order: key, query, flops, status, result fields (N, D, loss...)."""
        out = []
        for r in self._doc()["runs"]:
            out.append({"key": r["key"], **r["query"], **(r.get("result") or {}),
                        "flops": r["flops"], "status": r["status"]})
        return out

    def frame(self):
        """:attr:`history` as a pandas DataFrame, one row per run."""
        import pandas as pd

        return pd.DataFrame(self.history)

    def cost(self, **query) -> float:
        """FLOPs a query would be charged (0 is *not* returned for a stored query: see train)."""
        return float(self.backend.cost(self.backend.query(**query))[0])

    def __repr__(self) -> str:
        doc = self._doc()
        return (f"Budget(total_flops={self.total_flops:.4g}, spent={self._spent(doc):.4g}, "
                f"remaining={max(0.0, self.total_flops - self._spent(doc)):.4g}, "
                f"runs={len(doc['runs'])}, backend={self.backend.name!r}, store={str(self.store)!r})")

    # ------------------------------------------------------------------ training
    def train(self, **query) -> dict:
        """Run ``query`` and charge it, or return its stored result free of charge.

        Simulator: ``train(N=..., D=..., seed=0)``; lab: ``train(shape=(L, d, h), tokens=...)``.
        Returns a dict: the query, the result (``loss`` and, for the lab, ``train_loss``,
        ``N_non_embedding``...), ``flops`` (charged when it first ran), ``cached`` (True when
        served from the store, costing nothing now) and ``key``.
        Raises ValueError, charging nothing, if the run costs more than :attr:`remaining`.
        """
        q = self.backend.query(**query)
        key = _digest(q)
        flops, how = self.backend.cost(q)
        resume = False
        t_wait = time.monotonic()
        while True:
            with self._locked():
                doc = self._doc()
                rec = next((r for r in doc["runs"] if r["key"] == key), None)
                if rec is not None and rec["status"] == "done":
                    return self._answer(rec, cached=True)
                alive = rec is not None and _alive(rec.get("owner"))
                if alive:  # another live process is training it: wait below, outside the lock
                    limit = self.wait_timeout
                    if limit is None and not _verifiable(rec.get("owner")):
                        limit = LEGACY_WAIT_S
                    if limit is not None and time.monotonic() - t_wait > limit:
                        raise ValueError(
                            f"run {key} is pending in {self.store}, charged by process "
                            f"{rec['owner'].get('pid')} on {rec['owner'].get('host')}, which "
                            f"still runs; waited {limit:g} s (wait_timeout). Try again when it "
                            f"finishes, or if that process is not training it, delete the "
                            f"pending record's 'owner' field to retrain it without a new charge")
                elif rec is not None:
                    rec["owner"] = _owner()  # left pending by a dead process: already charged
                    self._write(doc)
                    resume = True
                    break
                else:
                    spent = self._spent(doc)
                    left = self.total_flops - spent
                    if flops > left * (1 + 1e-12):
                        raise ValueError(
                            f"budget exceeded: this run needs {flops:.4g} FLOPs ({how}) but only "
                            f"{max(left, 0.0):.4g} of the total {self.total_flops:.4g} remain "
                            f"({spent:.4g} spent on {len(doc['runs'])} run(s)); choose a smaller "
                            f"run (price it first with budget.cost(...)), or start a new budget "
                            f"with a larger total_flops in a new store")
                    doc["runs"].append({"key": key, "query": q, "flops": flops, "how": how,
                                        "status": "pending", "owner": _owner(),
                                        "charged_at": time.time()})
                    self._write(doc)
                    break
            time.sleep(0.2)
        try:
            result = self.backend.run(q)
        except BaseException:
            with self._locked():  # refund: the run never finished
                doc = self._doc()
                doc["runs"] = [r for r in doc["runs"] if r["key"] != key]
                self._write(doc)
            raise
        with self._locked():
            doc = self._doc()
            rec = next(r for r in doc["runs"] if r["key"] == key)
            rec.update(status="done", result=_clean(result), finished_at=time.time())
            rec.pop("owner", None)
            self._write(doc)
        return self._answer(rec, cached=False, resumed=resume)

    @staticmethod
    def _answer(rec: dict, cached: bool, resumed: bool = False) -> dict:
        out = {"key": rec["key"], **rec["query"], **rec["result"], "flops": rec["flops"],
               "cached": cached}
        if resumed:
            out["resumed"] = True
        return out


def _clean(obj):
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (np.floating, np.integer)):
        return _clean(obj.item())
    return obj


LEGACY_WAIT_S = 600.0
_TOKEN = os.urandom(8).hex()  # this process's identity, beyond a PID that may be reused


def _start_time(pid: int):
    """The process's start time in clock ticks since boot (Linux /proc), or None."""
    try:
        with open(f"/proc/{int(pid)}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _owner() -> dict:
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": pid, "start": _start_time(pid),
            "token": _TOKEN}


def _verifiable(owner) -> bool:
    return bool(owner) and owner.get("start") is not None


def _alive(owner) -> bool:
    """Whether the process that charged a pending run still runs (another host: assume yes).
    A PID alone can be reused by an unrelated process: the recorded start time must match."""
    if not owner:
        return False
    if owner.get("host") != socket.gethostname():
        return True
    if owner.get("pid") == os.getpid():
        return False  # this process (or an earlier one with its PID) charged it: not running
    try:
        os.kill(int(owner["pid"]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    except (TypeError, ValueError, KeyError, OverflowError):
        return False  # no usable PID: nobody can be training it
    if owner.get("start") is not None:
        return _start_time(owner["pid"]) == owner["start"]
    return True


def _ledger_problem(doc: dict) -> str | None:
    """What is wrong with a ledger's fields (None if nothing): every charge must be readable."""
    t = doc.get("total_flops")
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not (math.isfinite(t) and t > 0):
        return f"total_flops is {t!r}, not a positive number"
    if not isinstance(doc.get("backend"), dict):
        return "'backend' is missing or not an object"
    runs = doc.get("runs")
    if not isinstance(runs, list):
        return "'runs' is missing or not a list"
    for i, r in enumerate(runs):
        if not isinstance(r, dict):
            return f"runs[{i}] is not an object"
        f = r.get("flops")
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not (math.isfinite(f)
                                                                           and f >= 0):
            return f"runs[{i}].flops is {f!r}, not a number of FLOPs >= 0"
        if not isinstance(r.get("key"), str) or not isinstance(r.get("query"), dict):
            return f"runs[{i}] lacks a 'key' (string) or a 'query' (object)"
        if r.get("status") not in ("pending", "done"):
            return f"runs[{i}].status is {r.get('status')!r}, not 'pending' or 'done'"
        if r["status"] == "done" and not isinstance(r.get("result"), dict):
            return f"runs[{i}] is done but has no 'result' object"
    return None
