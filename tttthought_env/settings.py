"""The env arguments that every adapter shares besides the rules, checked in one place.

The Gymnasium env, the PettingZoo env and the vector env all take these keyword arguments; each
one's errors name the argument, the value and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from tttthought_env.core import Rules, check_real
from tttthought_env.shaping import validate_shaping

OBS_MODES: tuple[str, ...] = ("flat", "dict")
ILLEGAL_ACTION_MODES: tuple[str, ...] = ("lose", "raise")
AGENT_PLAYERS: tuple[str, ...] = ("X", "O", "random")


def check_choice(name: str, value: Any, allowed: tuple) -> Any:
    """``value`` if it is one of ``allowed``, else a ``ValueError`` naming ``name``."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


@dataclass(frozen=True)
class EnvOptions:
    """Reward, illegal-action and observation settings, validated."""

    illegal_action: str = "lose"
    thought_cost: float = 0.0
    draw_reward: float = 0.0
    shaping: Any = None
    shaping_scale: float = 0.1
    shaping_gamma: float = 1.0
    obs_mode: str = "flat"

    def __post_init__(self) -> None:
        check_choice("illegal_action", self.illegal_action, ILLEGAL_ACTION_MODES)
        check_choice("obs_mode", self.obs_mode, OBS_MODES)
        set_ = object.__setattr__
        set_(self, "thought_cost", check_real("thought_cost", self.thought_cost, 0.0, None))
        set_(self, "draw_reward", check_real("draw_reward", self.draw_reward, -1.0, 1.0))
        _, scale, gamma = validate_shaping(self.shaping, self.shaping_scale, self.shaping_gamma)
        set_(self, "shaping_scale", scale)
        set_(self, "shaping_gamma", gamma)


def observation_space(rules: Rules, obs_mode: str) -> spaces.Space:
    """The float32 vector, or ``{"observation", "action_mask"}`` (int8) for ``obs_mode="dict"``."""
    vector_space = spaces.Box(0.0, 1.0, (rules.obs_size,), np.float32)
    if obs_mode == "flat":
        return vector_space
    return spaces.Dict({"observation": vector_space, "action_mask": spaces.Box(0, 1, (rules.action_size,), np.int8)})
