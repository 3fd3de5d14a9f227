"""Batched vector env: many games of :class:`~tttthought_env.gymnasium_env.ThoughtTicTacToeEnv` at once.

``ThoughtVectorEnv(num_envs, **config)`` runs ``num_envs`` learner-vs-opponent games with exactly the rules,
rewards, shaping and opponents of the single env, as array operations over all games (no Python loop over
games), written once against the Python array API so the same code runs on NumPy arrays (``backend="numpy"``,
the default) and on PyTorch tensors (``backend="torch"``, ``device="cpu"`` or ``"cuda"``).

* A Gymnasium :class:`~gymnasium.vector.VectorEnv`, same-step autoreset by default (a game that ends is reset
  inside the same ``step``; the observation returned for it is the first one of the next episode and
  ``infos["final_obs"]`` holds the terminal one) or ``autoreset_mode="next_step"``. Every info has the same
  numeric keys at reset and at every step; ``call``/``get_attr``/``set_attr`` are Gymnasium's; it pickles.
* :class:`SB3VecEnv` adapts it to stable-baselines3's ``VecEnv`` (``terminal_observation`` in the infos,
  ``env_method("action_masks")`` for sb3-contrib's ``get_action_masks``), so ``MaskablePPO`` trains on it.
  It is imported on first access: this package imports without stable-baselines3.

Files by concern: ``state.py`` (the typed batch state), ``tables.py`` (lookup tables), ``kernel.py`` (the
batched rules), ``observe.py`` (observations, masks, action sampling), ``infos.py`` (the info shape),
``checks.py`` (argument checks), ``protocol.py`` (Gymnasium's ``call``/``get_attr``/``set_attr``), ``env.py``
(the Gymnasium vector env), ``sb3.py`` (the SB3 adapter), ``backend.py`` (NumPy or PyTorch).
"""

from __future__ import annotations

from typing import Any

from tttthought_env.transition import OUTCOMES, STEP_KINDS

from .checks import MAX_NUM_ENVS
from .env import ThoughtVectorEnv, make_vector_env

__all__ = ["MAX_NUM_ENVS", "OUTCOMES", "STEP_KINDS", "SB3VecEnv", "ThoughtVectorEnv", "make_vector_env"]  # noqa: F822 (lazy)


def __getattr__(name: str) -> Any:
    """``SB3VecEnv`` is built on first access, so importing this package does not import stable-baselines3."""
    if name == "SB3VecEnv":
        from .sb3 import sb3_vec_env_class

        return sb3_vec_env_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
