"""Every argument of the envs, checked in one place.

:class:`Config` holds the rule fields of a game (board, channels, store); :class:`EnvOptions` the
settings every env adds around the rules (illegal actions, rewards, shaping, observation mode). Each
check names the argument, the value and what is allowed, before anything is allocated.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

#: Thought channels, in the fixed order their action blocks follow the move block.
CHANNELS: tuple[str, ...] = ("propose", "negate", "forget", "marker")
PERSIST_MODES: tuple[str, ...] = ("game", "turn")
#: What the two mark planes of an observation show: whose marks are where (``"full"``), or only which cells
#: are occupied and the other player's last move (``"last_move"``: only the store can remember the rest).
VIEWS: tuple[str, ...] = ("full", "last_move")
#: ``"flat"``: the float32 vector; ``"dict"``: it and the int8 action mask; ``"tokens"``: the position as rows of
#: ``(type, value, position)`` with a token mask and the action mask (docs/spec.md, "Token observations").
OBS_MODES: tuple[str, ...] = ("flat", "dict", "tokens")
ILLEGAL_ACTION_MODES: tuple[str, ...] = ("lose", "raise")
AGENT_PLAYERS: tuple[str, ...] = ("X", "O", "random")
#: Boards have at most this many cells (a board is a 64-bit mask).
MAX_CELLS = 64
#: Upper bounds that keep every env's memory sane; checked before anything is allocated. A store never
#: holds more than N * max_thoughts entries, so a larger memory_size would change nothing.
MAX_THOUGHTS = 64
MAX_MARKERS = 64
MAX_MEMORY_SIZE = MAX_CELLS * MAX_THOUGHTS


def check_int(name: str, value: object, minimum: int, maximum: int | None = None) -> int:
    """``value`` as an int if it is one (not a bool) in ``[minimum, maximum]``; else an error naming ``name``."""
    allowed = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int {allowed}, got {value!r} of type {type(value).__name__}")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be an int {allowed}, got {value!r}")
    return int(value)


def check_real(name: str, value: object, low: float, high: float | None = None) -> float:
    """``value`` as a float if it is a finite real number in ``[low, high]``; else an error naming ``name``."""
    allowed = f"in [{low}, {high}]" if high is not None else f">= {low}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number {allowed}, got {value!r} of type {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number) or number < low or (high is not None and number > high):
        raise ValueError(f"{name} must be a real number {allowed}, got {value!r}")
    return number


def check_choice(name: str, value: Any, allowed: tuple) -> Any:
    """``value`` if it is one of ``allowed``, else a ``ValueError`` naming ``name``."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def check_game(rows: object, cols: object, k: object) -> tuple[int, int, int]:
    """``rows, cols, k`` as ints, or the TypeError/ValueError naming the bad one (``k <= max(rows, cols)``)."""
    rows, cols, k = check_int("rows", rows, 1), check_int("cols", cols, 1), check_int("k", k, 1)
    if k > max(rows, cols):
        raise ValueError(f"k must be between 1 and max(rows, cols) = {max(rows, cols)}, got k={k!r}")
    return rows, cols, k


def _check_channels(channels: object) -> tuple[str, ...]:
    if isinstance(channels, str) or not isinstance(channels, Iterable):
        raise TypeError(f"channels must be a tuple of names from {CHANNELS}, got {channels!r}")
    names = tuple(channels)
    for name in names:
        if name not in CHANNELS:
            raise ValueError(f"channels contains unknown channel {name!r}; allowed: {CHANNELS}")
    if len(set(names)) != len(names):
        raise ValueError(f"channels must not repeat a channel, got {names!r}")
    # The canonical order, so that equal channel sets give equal configs and action layouts.
    return tuple(c for c in CHANNELS if c in names)


@dataclass(frozen=True)
class Config:
    """The rules of one game; every env takes these as keyword arguments (docs/spec.md).

    ``memory_size=None`` means ``rows * cols``.
    """

    rows: int = 3
    cols: int = 3
    k: int = 3
    channels: tuple[str, ...] = CHANNELS
    max_thoughts: int = 3
    memory_size: int | None = None
    num_markers: int = 2
    persist: str = "game"
    #: A move is legal only once the player has thought this often this turn, or when no thought is legal.
    min_thoughts: int = 0
    #: One of :data:`VIEWS`; the opponent, the solver and every R(δx) judgement see the true board.
    view: str = "full"

    def __post_init__(self) -> None:
        rows, cols, k = check_game(self.rows, self.cols, self.k)
        if rows * cols > MAX_CELLS:
            raise ValueError(f"rows * cols must be at most {MAX_CELLS} cells, got rows={rows}, cols={cols} "
                             f"({rows * cols})")
        channels = _check_channels(self.channels)
        max_thoughts = check_int("max_thoughts", self.max_thoughts, 0, MAX_THOUGHTS)
        memory_size = (rows * cols if self.memory_size is None
                       else check_int("memory_size", self.memory_size, 1, MAX_MEMORY_SIZE))
        num_markers = check_int("num_markers", self.num_markers, 0, MAX_MARKERS)
        if "marker" in channels and num_markers < 1:
            raise ValueError(f"num_markers must be >= 1 when the 'marker' channel is on, got {num_markers!r}")
        check_choice("persist", self.persist, PERSIST_MODES)
        min_thoughts = check_int("min_thoughts", self.min_thoughts, 0, max_thoughts)
        check_choice("view", self.view, VIEWS)
        for name, value in (("rows", rows), ("cols", cols), ("k", k), ("channels", channels),
                            ("max_thoughts", max_thoughts), ("memory_size", memory_size), ("num_markers", num_markers),
                            ("min_thoughts", min_thoughts)):
            object.__setattr__(self, name, value)

    @property
    def n_cells(self) -> int:
        return self.rows * self.cols

    @property
    def thinking(self) -> bool:
        """Whether any thought action exists (False is the plain tic-tac-toe control)."""
        return bool(self.channels) and self.max_thoughts > 0

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> Config:
        """The config of the rule keys in ``settings`` (other keys are the env's, and ignored here)."""
        return cls(**{key: settings[key] for key in CONFIG_KEYS if key in settings})

    def as_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in CONFIG_KEYS}


#: The rule arguments, in the order of :class:`Config`.
CONFIG_KEYS: tuple[str, ...] = tuple(f.name for f in fields(Config))


@dataclass(frozen=True)
class EnvOptions:
    """What every env adds around the rules: illegal actions, rewards, shaping, observation mode."""

    illegal_action: str = "lose"
    thought_cost: float = 0.0
    draw_reward: float = 0.0
    shaping: Any = None
    shaping_scale: float = 0.1
    shaping_gamma: float = 1.0
    obs_mode: str = "flat"

    def __post_init__(self) -> None:
        from tttthought_env.rewards import SHAPING_KINDS

        check_choice("illegal_action", self.illegal_action, ILLEGAL_ACTION_MODES)
        check_choice("obs_mode", self.obs_mode, OBS_MODES)
        shaping = self.shaping
        if shaping is not None and not callable(shaping) and shaping not in SHAPING_KINDS:
            raise ValueError(f"shaping must be None, one of {SHAPING_KINDS} or a callable, got {shaping!r}")
        set_ = object.__setattr__
        set_(self, "thought_cost", check_real("thought_cost", self.thought_cost, 0.0, None))
        set_(self, "draw_reward", check_real("draw_reward", self.draw_reward, -1.0, 1.0))
        set_(self, "shaping_scale", check_real("shaping_scale", self.shaping_scale, 0.0, None))
        set_(self, "shaping_gamma", check_real("shaping_gamma", self.shaping_gamma, 0.0, 1.0))


#: The env arguments every env shares besides the rules, in the order of :class:`EnvOptions`.
OPTION_KEYS: tuple[str, ...] = tuple(f.name for f in fields(EnvOptions))
