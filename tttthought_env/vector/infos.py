"""The vector env's ``infos``: one shape at reset and at every step, in both autoreset modes.

Every info carries the same keys, each an array with leading dimension ``num_envs`` and a numeric dtype,
so that libraries which stack or buffer infos (Tianshou, TorchRL, Minari) see one structure throughout.
Codes are indices into the name tables of :mod:`tttthought_env.transition` (``STEP_KINDS``, ``OUTCOMES``),
``-1`` where there is no value yet (``step_kind`` at a reset, ``outcome`` while the game runs).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .backend import Backend

#: The keys of every info, besides their Gymnasium ``"_key"`` masks (and ``final_obs`` in same-step mode).
INFO_KEYS = ("action_mask", "reward_game", "reward_shaping", "reward_cost", "step_kind", "outcome", "thoughts",
             "illegal_action")

#: The value of each per-game key where a game was just reset (at ``reset()``, and in next-step mode on
#: the step that resets it): nothing has happened in the new episode yet.
RESET_VALUES = {"reward_game": 0.0, "reward_shaping": 0.0, "reward_cost": 0.0, "step_kind": -1, "outcome": -1,
                "thoughts": 0, "illegal_action": False}


def with_masks(be: Backend, values: dict[str, Any], num_envs: int) -> dict[str, Any]:
    """``values`` with a Gymnasium ``"_key"`` mask per key: every key has a value for every game, so each
    mask is all True (one array shared by the masks: they are read, never written)."""
    present = be.full((num_envs,), True, be.bool)
    infos = dict(values)
    for key in values:
        infos["_" + key] = present
    return infos


def reset_infos(be: Backend, mask: Any, num_envs: int) -> dict[str, Any]:
    """The infos of ``reset()``: the masks, and :data:`RESET_VALUES` for every game."""
    dtypes = {"reward_game": be.float64, "reward_shaping": be.float64, "reward_cost": be.float64,
              "step_kind": be.int8, "outcome": be.int8, "thoughts": be.int32, "illegal_action": be.bool}
    values = {"action_mask": mask}
    values.update({key: be.full((num_envs,), RESET_VALUES[key], dtypes[key]) for key in dtypes})
    return with_masks(be, values, num_envs)


def ignore_rows(be: Backend, rows: Any, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` (per-game arrays keyed as :data:`RESET_VALUES`, plus ``"reward"`` and ``"terminated"``)
    with the rows ``rows`` set to a just-reset game's: next-step autoreset ignores those games' actions."""
    xp = be.xp
    fills = {**RESET_VALUES, "reward": 0.0, "terminated": False}
    return {key: xp.where(rows, xp.full_like(value, fills[key]), value) for key, value in values.items()}


def info_at(be: Backend, infos: dict[str, Any], i: int, num_actions: int) -> dict[str, Any]:
    """Row ``i`` of ``infos`` as the single env's ``info`` dict: the same keys, Python scalars.

    ``"action_mask"`` is the mask the single env reports: all False where the episode just ended (in
    same-step mode the vector env's own row then holds the new episode's mask).
    """
    def get(key: str) -> Any:
        return be.to_numpy(infos[key][i])

    outcome = int(get("outcome"))
    mask = np.zeros(num_actions, bool) if outcome >= 0 else np.asarray(get("action_mask"), dtype=bool)
    return {
        "action_mask": mask,
        "reward_game": float(get("reward_game")),
        "reward_shaping": float(get("reward_shaping")),
        "reward_cost": float(get("reward_cost")),
        "step_kind": int(get("step_kind")),
        "outcome": outcome,
        "thoughts": int(get("thoughts")),
        "illegal_action": bool(get("illegal_action")),
    }
