"""Baselines for tttthought-env: MaskablePPO and (masked) QR-DQN, the evaluation protocol, the grid and its report.

Entry points: ``python -m baselines train|eval|grid|report`` (see :mod:`baselines.cli`), and
:func:`baselines.train.train` for one run from a config built by :func:`baselines.config.make_run_config`.
Needs the ``baselines`` extra: ``pip install -c constraints.txt -e ".[baselines]"``.
"""

__all__ = ["cli", "config", "envs", "evaluate", "grid", "masked_qrdqn", "metrics", "report", "train"]
