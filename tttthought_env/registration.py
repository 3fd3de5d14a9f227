"""The registered task ids and their settings, registered with Gymnasium and PettingZoo on import."""

from __future__ import annotations

from typing import Any

from tttthought_env.config import Config
from tttthought_env.layout import layout_for

#: Settings of each registered task (everything else takes the env's defaults).
#: The Gymnasium ids train against minimax mixed with 50% uniformly random moves.
TASKS: dict[str, dict[str, Any]] = {
    "tttthought/Plain-v0": {"channels": ()},
    "tttthought/Propose-v0": {"channels": ("propose",), "max_thoughts": 1},
    "tttthought/ProposeNegate-v0": {"channels": ("propose", "negate"), "max_thoughts": 2},
    "tttthought/Full-v0": {"channels": ("propose", "negate", "forget", "marker"), "num_markers": 2,
                           "max_thoughts": 3},
}
#: The last-move twins: the same tasks where the agent sees which cells are occupied and the other player's
#: last move, never who holds a cell, so that only its store can remember (docs/tasks.md).
TASKS.update({task_id.replace("tttthought/", "tttthought/LastMove-"): {**settings, "view": "last_move"}
              for task_id, settings in list(TASKS.items())})
GYMNASIUM_DEFAULTS: dict[str, Any] = {"opponent": "minimax", "opponent_epsilon": 0.5}


def max_episode_steps(settings: dict[str, Any]) -> int:
    """``N * (max_thoughts + 1)``: no episode of these settings is longer."""
    return layout_for(Config.from_settings(settings)).max_episode_moves_and_thoughts


def register_all() -> None:
    import gymnasium

    for task_id, settings in TASKS.items():
        if task_id not in gymnasium.registry:
            gymnasium.register(
                id=task_id,
                entry_point="tttthought_env.gymnasium_env:ThoughtTicTacToeEnv",
                vector_entry_point="tttthought_env.vector:ThoughtVectorEnv",
                kwargs={**GYMNASIUM_DEFAULTS, **settings},
                # No step limit: every episode ends by itself within max_episode_steps(settings), and a
                # registered limit would silently truncate the longer episodes of overridden settings.
            )
    try:
        import pettingzoo
    except ImportError:  # pragma: no cover - pettingzoo is a runtime dependency
        return
    registry = getattr(pettingzoo, "aec_registry", None)
    if registry is None:  # older PettingZoo without an environment registry
        return
    for task_id, settings in TASKS.items():
        if task_id not in registry:
            pettingzoo.register("aec", task_id, entry_point="tttthought_env.pettingzoo_env:env", kwargs=dict(settings))
