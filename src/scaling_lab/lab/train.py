"""Old import path, kept so that ``scaling_lab.lab.train.RunSpec`` and friends still resolve.

The trainer lives in three files now: ``spec.py`` (:class:`RunSpec`, schedules, eval points,
:class:`RunResult`), ``trainer.py`` (the loop: :class:`Trainer`, :func:`train`) and ``wsd.py``
(cooldown branches and checkpoints: :func:`train_wsd_group`). Import from those. The command line
is ``scaling-lab train`` (also under torchrun).
"""

from .spec import SCHEDULES, RunResult, RunSpec, cosine_lr, lr_rule, warmup_factor
from .trainer import Trainer, dist_info, pick_device, run_info, spec_result, train
from .wsd import train_wsd_group, wsd_group_key

__all__ = ["SCHEDULES", "RunResult", "RunSpec", "cosine_lr", "lr_rule", "warmup_factor",
           "Trainer", "dist_info", "pick_device", "run_info", "spec_result", "train",
           "train_wsd_group", "wsd_group_key"]
