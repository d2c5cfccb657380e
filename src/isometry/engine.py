"""The training engine: E same-shape networks trained at once, one tidy row per member and logged step.

Read it top to bottom: seeds -> data order -> losses -> schedules -> evaluation -> one update -> ``train``.

Decisions (DESIGN.md asks that they be written down):

* **Seeds.** Member i uses two CPU generators derived from ``member.seed`` only (``member_generators``): the init
  generator (``torch.Generator().manual_seed(seed)``, consumed by ``model.reset_parameters``) and the data-order
  generator (seeded by ``numpy.random.SeedSequence([seed, 1])``). A member's run is therefore the same whichever
  other members share its ensemble, and equal to an ordinary single-network PyTorch run with the same seeds
  (tests/test_engine.py checks it).
* **Data order.** Default: every member shuffles with its own data generator (one ``randperm`` per epoch, the last
  incomplete batch dropped), so seeds vary data order as they would in separate runs. With ``data_seed=s`` all
  members share one order (drawn from ``member_generators(s)``'s data generator) and one batch per step, which
  saves the per-member gather (the first layer then broadcasts one batch over the ensemble).
* **Steps.** Step s = the parameters after s updates; step 0 is the initialization. ``log_steps`` default:
  about 30 log-spaced steps in [1, steps] plus 0.
* **Metrics.** At each logged step the model is evaluated (no_grad, in batches) on the first ``eval_examples``
  training examples (``train_loss``/``train_acc``) and on the first ``eval_examples`` examples of the real test split
  (``test_loss``/``test_acc``). ``train_loss`` is the data loss (without the regularizer). ``wall_s`` is the
  ensemble's wall-clock time since training started (shared by its members).
* **Divergence.** A member whose training objective (loss + regularizer) on its mini-batch, or whose evaluated loss,
  is NaN/inf is marked diverged and frozen (optimizer.freeze: no more updates; its parameters stay those it had).
  Divergence found while computing update s (on the step s-1 parameters) is dated step s, divergence found by the
  evaluation at a logged step s is dated s; the member's rows from that step on have ``diverged=True`` and NaN
  metrics (earlier rows keep their finite values). The check is a device-side mask, never a host sync per step; the other
  members continue exactly as they would without it (members never interact: the summed objective masks it out).
* **Precision.** Parameters and optimizer state are fp32. ``autocast_bf16=True`` runs the forward pass under
  ``torch.autocast(dtype=bfloat16)``, nothing else. On CUDA, TF32 matmuls are allowed.
* **Checkpoints and resume.** Inside a checkpoint session (``python -m isometry experiment`` opens one per
  experiment in ``<output>.ckpt/``; library use without one is unaffected) every call saves its full loop state every
  ``ISOMETRY_CHECKPOINT_EVERY`` seconds (default 60) and a finished record at the end; a rerun after a crash or
  ``kill -9`` reuses finished calls and resumes the interrupted one from its last checkpoint. Resumed training is
  bit-identical on the CPU; only ``wall_s`` differs. Details and limits (callbacks) in checkpoint.py.
* **Determinism.** Same members, seeds and arguments => identical rows on the CPU (same torch version and thread
  count: the CLI sets ``threads``), so the run CSVs are byte-identical except the ``wall_s`` column. On CUDA expect
  agreement to a tolerance, not bit-equality: cuBLAS/cuDNN may pick different (split-K, atomics-based) reduction
  orders from run to run, and TF32 matmuls (enabled here) round their inputs to 10 mantissa bits (~1e-3 relative
  per product), so GPU curves differ from CPU ones, and possibly from one GPU run to the next, by small amounts that
  training can amplify (most in chaotic, near-critical or very deep networks). Compare GPU runs statistically
  (per-seed curves within a tolerance, the same diverged flags away from the edge of chaos); the test-suite checks
  bit-equality on the CPU only.
  ``torch.use_deterministic_algorithms(True)`` plus ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` and TF32 off would make a
  GPU rerun repeat itself on the same GPU model, at a cost in speed; it still would not equal the CPU result.
* **Speed.** One update (``update``) is forward, per-member objective, backward of the active members' sum and
  the optimizer's fused step (optim.py): no per-member Python, no host sync. (Training big ensembles in groups of
  members, for cache locality, was measured and dropped: 0.85-0.99x of all at once at widths 256-400 on one core.)
* **Custom initial weights.** ``init_hook(model, members)`` runs after ``reset_parameters`` (and after the move to
  the device) and before the optimizer is built; or initialize the model yourself and pass ``reset=False``.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor

from isometry import checkpoint as _ckpt
from isometry.data import Dataset
from isometry.optim import make_optimizer
from isometry.spec import RUN_COLUMNS, Member


# ---------------------------------------------------------------------------------------------------------- seeds
def member_generators(seed: int) -> tuple[torch.Generator, torch.Generator]:
    """(init generator, data-order generator) of a member, both CPU and derived from ``seed`` only."""
    data_seed = int(np.random.SeedSequence([int(seed), 1]).generate_state(1, np.uint64)[0] >> np.uint64(1))
    return torch.Generator().manual_seed(int(seed)), torch.Generator().manual_seed(data_seed)


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


# ----------------------------------------------------------------------------------------------------- data order
class BatchOrder:
    """Mini-batch indices: ``next()`` -> (E, B) (per-member orders) or (B,) (shared order), on ``device``.

    Each order is a fresh ``torch.randperm(n, generator=g)`` per epoch, cut into n // B batches.
    """

    def __init__(self, generators: Sequence[torch.Generator], n: int, batch_size: int, device, shared: bool):
        if batch_size > n:
            raise ValueError(f"batch_size {batch_size} > {n} training examples")
        self.gens, self.n, self.B, self.device, self.shared = list(generators), n, batch_size, device, shared
        self.per_epoch = n // batch_size
        self.k = self.per_epoch                            # forces a new epoch on the first call
        self.epoch = -1

    def next(self) -> Tensor:
        if self.k == self.per_epoch:
            self._new_epoch()
        idx = self.perms[:, self.k * self.B:(self.k + 1) * self.B]
        self.k += 1
        return idx[0] if self.shared else idx

    def _new_epoch(self):
        self.epoch_states = [g.get_state() for g in self.gens]       # for state_dict: the epoch can be redrawn
        perms = torch.stack([torch.randperm(self.n, generator=g) for g in self.gens])
        self.perms = perms.to(self.device)
        self.k, self.epoch = 0, self.epoch + 1

    def state_dict(self) -> dict:
        """Position (epoch, batch k) and each generator's state at the start of the current epoch (small: the
        epoch's permutations are redrawn by ``load_state_dict``, consuming exactly what the first draw did)."""
        if self.epoch < 0:
            return {"epoch": -1, "k": self.k, "gens": [g.get_state() for g in self.gens]}
        return {"epoch": self.epoch, "k": self.k, "gens": [s.clone() for s in self.epoch_states]}

    def load_state_dict(self, state: dict):
        for g, s in zip(self.gens, state["gens"], strict=True):
            g.set_state(s)
        if state["epoch"] < 0:
            self.epoch, self.k = -1, self.per_epoch
            return
        self.epoch = int(state["epoch"]) - 1
        self._new_epoch()
        self.k = int(state["k"])


# --------------------------------------------------------------------------------------------------------- losses
def cross_entropy(out: Tensor, y: Tensor) -> Tensor:
    """Mean cross-entropy per member: out (E, B, K), y (E, B) or (B,) -> (E,)."""
    E, B, K = out.shape
    y = y.expand(E, B)
    return F.cross_entropy(out.reshape(E * B, K).float(), y.reshape(E * B), reduction="none").view(E, B).mean(1)


def mse(out: Tensor, y: Tensor) -> Tensor:
    """Mean squared error against one-hot targets per member (``F.mse_loss`` of each member): -> (E,)."""
    E, B, K = out.shape
    target = F.one_hot(y.expand(E, B), K).to(torch.float32)
    return (out.float() - target).pow(2).mean(dim=(1, 2))


LOSSES = {"cross_entropy": cross_entropy, "mse": mse}


def accuracy_sum(out: Tensor, y: Tensor) -> Tensor:
    """Number of correct argmax predictions per member: (E,)."""
    E, B, _ = out.shape
    return (out.argmax(-1) == y.expand(E, B)).sum(1).to(torch.float32)


# ------------------------------------------------------------------------------------------------------ schedules
def log_steps(steps: int, n: int = 30) -> list[int]:
    """About ``n`` log-spaced steps in [1, steps], plus 0 and ``steps`` (sorted, unique)."""
    if steps <= 0:
        return [0]
    pts = np.unique(np.round(np.logspace(0, math.log10(steps), max(n, 2))).astype(int))
    return sorted({0, steps, *pts.tolist()})


def exponential_decay(gamma: float, per: str = "step") -> Callable[[int, int], float]:
    """lr factor gamma**step (``per="step"``) or gamma**epoch (``per="epoch"``), for ``train(lr_schedule=...)``."""
    if per not in ("step", "epoch"):
        raise ValueError("per must be 'step' or 'epoch'")
    return (lambda step, epoch: gamma ** step) if per == "step" else (lambda step, epoch: gamma ** epoch)


# ----------------------------------------------------------------------------------------------------- evaluation
@torch.no_grad()
def evaluate(model, x: Tensor, y: Tensor, loss_fn, batch_size: int, autocast) -> tuple[Tensor, Tensor]:
    """Mean loss and accuracy per member over (x, y), shared by all members: -> ((E,), (E,)) on the CPU."""
    loss_sum = acc_sum = 0.0
    for i in range(0, len(x), batch_size):
        xb, yb = x[i:i + batch_size], y[i:i + batch_size]
        with autocast():
            out = model(xb)
        loss_sum = loss_sum + loss_fn(out, yb).double() * len(xb)
        acc_sum = acc_sum + accuracy_sum(out, yb).double()
    return (loss_sum / len(x)).cpu(), (acc_sum / len(x)).cpu()


# ---------------------------------------------------------------------------------------------------- one update
def _no_autocast():
    return torch.autocast("cpu", enabled=False)


def update(model, opt, x: Tensor, y: Tensor, loss_fn, *, lr_factor=1.0, regularizer: Callable | None = None,
           autocast: Callable = _no_autocast, on_objective: Callable | None = None) -> Tensor:
    """One training step of every member; returns the per-member objective (E,) (detached).

    forward -> objective = loss (+ ``regularizer(model)``) -> ``on_objective(objective)`` (``train`` freezes the
    diverging members there, before their update) -> backward of the active members' sum -> ``opt.step``.
    """
    with autocast():
        out = model(x)
    objective = loss_fn(out, y)
    if regularizer is not None:
        objective = objective + regularizer(model)
    if on_objective is not None:
        on_objective(objective)
    opt.zero_grad()
    torch.where(opt.active.view(-1), objective, 0.0).sum().backward()
    opt.step(lr_factor)
    return objective.detach()


# ---------------------------------------------------------------------------------------------------------- train
def train(model, members: Sequence[Member], dataset: Dataset, *, steps: int, batch_size: int,
          loss: str | Callable = "cross_entropy", lr_schedule: Callable[[int, int], float | Tensor] | None = None,
          log_at: Sequence[int] | None = None, n_log: int = 30, eval_examples: int | None = 10_000,
          eval_batch_size: int = 1000, device=None, autocast_bf16: bool = False,
          regularizer: Callable | None = None, grad_clip: float | None = None, lr_multipliers: dict | None = None,
          data_seed: int | None = None, reset: bool = True, init_hook: Callable | None = None,
          callback: Callable | None = None, paper: str = "", experiment: str = "",
          progress: bool | None = None, desc: str = "") -> pd.DataFrame:
    """Train the E members of ``model`` on ``dataset``; return tidy rows (member x logged step), RUN_COLUMNS first.

    model          an EnsembleModel (models.py protocol) with E == len(members), on the CPU or the device
    loss           "cross_entropy" | "mse" | callable(out (E,B,K), y (E,B) or (B,)) -> per-member loss (E,)
    lr_schedule    callable(step, epoch) -> multiplicative lr factor (float or (E,) tensor), e.g. exponential_decay
    log_at         steps to log (default ``log_steps(steps, n_log)``; 0 and ``steps`` are always added)
    eval_examples  cap on the train subset and on the test split evaluated at logged steps (None = all)
    regularizer    callable(model) -> per-member penalty (E,), added to the training objective
    grad_clip      per-member gradient-norm clipping (float or per-member sequence)
    lr_multipliers {param name: float or (E,) tensor}; default ``model.lr_multipliers()``
    data_seed      None: per-member data order (member.seed); int: one shared order for all members
    reset          call ``model.reset_parameters(members, init generators)`` (False: keep the model's weights)
    init_hook      callable(model, members) run after the reset, before training (custom initial weights)
    callback       callable(step, model, optimizer) after every update (measurements, timing)
    progress       tqdm bar (None: when stderr is a TTY; otherwise plain log lines every ~30 s); False: silent
    """
    members = list(members)
    E = len(members)
    if getattr(model, "E", E) != E:
        raise ValueError(f"model has E={model.E} members, got {E} Member rows")
    device = torch.device(device) if device is not None else default_device()
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    loss_fn = LOSSES[loss] if isinstance(loss, str) else loss
    autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if autocast_bf16 \
        else (lambda: torch.autocast(device.type, enabled=False))

    # -- init: per-member generators on the CPU, then to the device --------------------------------------------
    gens = [member_generators(m.seed) for m in members]
    if reset:
        model.to("cpu")
        sigma_w2 = model.reset_parameters(members, [g[0] for g in gens])
    else:
        sigma_w2 = [m.sigma_w2 for m in members]
    model.to(device)
    if init_hook is not None:
        init_hook(model, members)
    mults = lr_multipliers if lr_multipliers is not None else (model.lr_multipliers() or None)
    if mults:
        params = dict(model.named_parameters())
        mults = {params[k]: v for k, v in mults.items()}
    opt = make_optimizer(list(model.parameters()), members, lr_multipliers=mults, grad_clip=grad_clip)

    # -- data: standardized once, kept on the device ------------------------------------------------------------
    X, Y = dataset.standardize(dataset.train_x).to(device), dataset.train_y.to(device)
    n_eval_tr = len(X) if eval_examples is None else min(eval_examples, len(X))
    n_eval_te = len(dataset.test_x) if eval_examples is None else min(eval_examples, len(dataset.test_x))
    Xte = dataset.standardize(dataset.test_x[:n_eval_te]).to(device)
    Yte = dataset.test_y[:n_eval_te].to(device)
    if data_seed is None:
        order = BatchOrder([g[1] for g in gens], len(X), batch_size, device, shared=False)
    else:
        order = BatchOrder([member_generators(data_seed)[1]], len(X), batch_size, device, shared=True)

    # -- bookkeeping ------------------------------------------------------------------------------------------------
    log_set = sorted({0, steps, *(log_at if log_at is not None else log_steps(steps, n_log))} & set(range(steps + 1)))
    diverged_at = torch.full((E,), -1, dtype=torch.long, device=device)   # first diverged step, -1 = never
    shape = model.describe() if hasattr(model, "describe") else {}
    static = [{"paper": paper, "experiment": experiment, "run_id": m.run_id, "init": m.init,
               "nonlinearity": shape.get("nonlinearity"), "depth": shape.get("depth"), "width": shape.get("width"),
               "sigma_w2": s2, "sigma_b2": m.sigma_b2, "lr": m.lr, "optimizer": m.optimizer, "seed": m.seed,
               "dataset": dataset.label} for m, s2 in zip(members, sigma_w2)]
    rows: list[dict] = []

    # -- checkpoints: only inside a checkpoint session (``python -m isometry experiment``; checkpoint.py) ---------
    ck, start, state = None, 0, None
    session = _ckpt.active()
    if session is not None:
        ordinal = session.next_call()
        if callback is None or (hasattr(callback, "state_dict") and hasattr(callback, "load_state_dict")):
            key = _ckpt.call_key(
                members=[m.as_row() for m in members], steps=steps, batch_size=batch_size, loss=loss,
                lr_schedule=lr_schedule, log_set=log_set, eval_examples=eval_examples, eval_batch_size=eval_batch_size,
                device=device.type, autocast_bf16=autocast_bf16, regularizer=regularizer, grad_clip=grad_clip,
                lr_multipliers=lr_multipliers if lr_multipliers is not None else model.lr_multipliers(),
                data_seed=data_seed, reset=reset, init_hook=init_hook, callback=callback, paper=paper,
                experiment=experiment, sigma_w2=sigma_w2, dataset=dataset, model=model, shape=shape)
            if key is not None:
                ck = session.call(ordinal, key)
                state = ck.load()
        else:
            _ckpt._log(f"train call {ordinal} ({desc or experiment}): its callback has no state_dict/"
                       "load_state_dict, so it is not checkpointed (it reruns from step 0 after an interruption)")
    if state is not None:
        model.load_state_dict(state["model"])            # in place: the parameters stay views into opt.flat
        rows = list(state["rows"])
        start = int(state["step"])
        if state.get("finished"):
            _ckpt._log(f"{ck.path.name}: train call already finished; its rows and final weights are reused")
        else:
            opt.load_state_dict(state["opt"])
            order.load_state_dict(state["order"])
            diverged_at.copy_(state["diverged_at"])
            if callback is not None:
                callback.load_state_dict(state["callback"])
            _ckpt._log(f"{ck.path.name}: resuming train call from step {start}/{steps}")
        _ckpt.set_rng_state(state["rng"])
    bar = _Progress(steps, progress, desc or f"{experiment or 'train'} E={E}", start=start)
    t0 = time.perf_counter() - (float(state["elapsed"]) if state is not None else 0.0)
    last_save, interval = time.perf_counter(), (ck.every if ck is not None else 0.0)

    def save(step: int, finished: bool = False):
        st = {"step": step, "finished": finished, "rows": rows, "elapsed": time.perf_counter() - t0,
              "rng": _ckpt.rng_state(),
              "model": {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}}
        if not finished:
            st.update(opt={k: v.to("cpu") if torch.is_tensor(v) else v for k, v in opt.state_dict().items()},
                      order=order.state_dict(), diverged_at=diverged_at.cpu())
            if callback is not None:
                st["callback"] = callback.state_dict()
        ck.save(st)

    def log(step: int):
        model.eval()
        tr_loss, tr_acc = evaluate(model, X[:n_eval_tr], Y[:n_eval_tr], loss_fn, eval_batch_size, autocast)
        te_loss, te_acc = evaluate(model, Xte, Yte, loss_fn, eval_batch_size, autocast)
        model.train()
        bad = ~(torch.isfinite(tr_loss) & torch.isfinite(te_loss))        # evaluation may reveal divergence too
        _mark_diverged(opt, diverged_at, bad.to(device), step)
        div = diverged_at.cpu()
        wall = time.perf_counter() - t0
        for i in range(E):
            d = bool(div[i] >= 0)
            nan = float("nan")
            rows.append({**static[i], "step": step,
                         "train_loss": nan if d else float(tr_loss[i]), "train_acc": nan if d else float(tr_acc[i]),
                         "test_loss": nan if d else float(te_loss[i]), "test_acc": nan if d else float(te_acc[i]),
                         "diverged": d, "wall_s": wall, **members[i].extra})

    # -- the loop -------------------------------------------------------------------------------------------------
    model.train()
    if 0 in log_set and start == 0:
        log(0)
    with warnings.catch_warnings():      # params are views into the optimizer's flat buffer (optim.py)
        warnings.filterwarnings("ignore", message=".*gradient layout contract.*")
        for step in range(start + 1, steps + 1):
            idx = order.next()
            x = X.index_select(0, idx.reshape(-1)).view(*idx.shape, *X.shape[1:])   # (E, B, ...) or (B, ...)
            y = Y.index_select(0, idx.reshape(-1)).view(idx.shape)
            factor = 1.0 if lr_schedule is None else lr_schedule(step - 1, order.epoch)
            update(model, opt, x, y, loss_fn, lr_factor=factor, regularizer=regularizer, autocast=autocast,
                   on_objective=lambda o, s=step: _mark_diverged(opt, diverged_at, ~torch.isfinite(o), s))
            if callback is not None:
                callback(step, model, opt)
            if step in log_set:
                log(step)
            bar.update(step)
            if ck is not None and step < steps and time.perf_counter() - last_save >= interval:
                t_save = time.perf_counter()
                save(step)
                last_save, interval = time.perf_counter(), (ck.every if ck is not None else 0.0)
                if ck.every > 0:                    # writing costs at most ~10% of the time (0: every step)
                    interval = max(ck.every, 10 * (last_save - t_save))
    bar.close()
    if ck is not None and not (state is not None and state.get("finished")):
        save(steps, finished=True)

    df = pd.DataFrame(rows)
    extras = [c for c in df.columns if c not in RUN_COLUMNS]
    return df[RUN_COLUMNS + extras]


def _mark_diverged(opt, diverged_at: Tensor, bad: Tensor, step: int):
    """Freeze the members flagged ``bad`` (E,) and remember the first step they diverged at (device-side)."""
    diverged_at.copy_(torch.where(bad & (diverged_at < 0), step, diverged_at))
    opt.freeze(bad)


class _Progress:
    """tqdm bar with ETA on a TTY; otherwise a plain line to stderr every ``every_s`` seconds."""

    def __init__(self, total: int, enabled: bool | None, desc: str, every_s: float = 30.0, start: int = 0):
        self.total, self.desc, self.every_s, self.start = total, desc, every_s, start
        self.enabled = enabled is not False
        self.tty = sys.stderr.isatty() if enabled is None else enabled
        self.bar = None
        if self.enabled and self.tty:
            from tqdm.auto import tqdm
            self.bar = tqdm(total=total, initial=start, desc=desc, leave=False, dynamic_ncols=True)
        self.t0 = self.last = time.perf_counter()

    def update(self, step: int):
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(1)
            return
        now = time.perf_counter()
        if now - self.last >= self.every_s or step == self.total:
            self.last = now
            rate = (now - self.t0) / max(step - self.start, 1)
            print(f"[isometry] {self.desc}: step {step}/{self.total} ({100 * step / self.total:.0f}%), "
                  f"{now - self.t0:.0f} s elapsed, ETA {rate * (self.total - step):.0f} s", file=sys.stderr,
                  flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()
