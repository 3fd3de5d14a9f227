"""The vector env's argument checks: what the single env's :class:`~tttthought_env.config.Config` and
:class:`~tttthought_env.config.EnvOptions` do not cover (the batch size, the autoreset mode, what cannot be
vectorized). Each runs before anything is allocated and names the argument, the bound and the value."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode

from tttthought_env.opponents import OPPONENTS

from .tables import SOLVER_TABLE_CELLS

#: The most games one vector env holds. One step's arrays (observations, the terminal copies, masks, the
#: info arrays) take about 2.4 KB per game on a 64-cell board with the default store, plus up to 5 KB of
#: state per game with the largest store: 2**20 games stay within 3 GB (8 GB at the largest store), in host
#: or device memory. It also covers the GPU benchmark's batch (docs/performance.md).
MAX_NUM_ENVS = 2**20

#: What ``autoreset_mode`` accepts, by name: ours (snake case) and Gymnasium's ``AutoresetMode`` values.
AUTORESET_MODES = {"same_step": AutoresetMode.SAME_STEP, "next_step": AutoresetMode.NEXT_STEP,
                   AutoresetMode.SAME_STEP.value: AutoresetMode.SAME_STEP,
                   AutoresetMode.NEXT_STEP.value: AutoresetMode.NEXT_STEP}

#: Render modes of the vector env: None, or one RGB frame per game.
RENDER_MODES = ("rgb_array",)

_OPPONENT_KINDS = f"one of {OPPONENTS} or a batched callable (boards, rng) -> cells"


def checked_num_envs(num_envs: Any) -> int:
    if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or not 1 <= num_envs <= MAX_NUM_ENVS:
        raise ValueError(
            f"num_envs must be an int in [1, {MAX_NUM_ENVS}] (2**20: one step's arrays on a 64-cell board take "
            f"about 2.4 KB per game, so more games would need over 3 GB), got {num_envs!r}"
        )
    return int(num_envs)


def checked_autoreset_mode(mode: Any) -> AutoresetMode:
    """``mode`` as a Gymnasium ``AutoresetMode`` (``DISABLED`` is refused: every episode ends by itself)."""
    key = mode.value if isinstance(mode, AutoresetMode) else mode
    if not isinstance(key, str) or key not in AUTORESET_MODES:
        raise ValueError(
            "autoreset_mode must be 'same_step', 'next_step', AutoresetMode.SAME_STEP or AutoresetMode.NEXT_STEP "
            f"(the vector env always resets finished games), got {mode!r}"
        )
    return AUTORESET_MODES[key]


def check_vectorizable(render_mode: Any, shaping: Any, opponent: Any) -> None:
    """What the single env accepts but the vector env cannot do: human rendering, a callable shaping."""
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise ValueError(f"the vector env renders render_mode=None or 'rgb_array' (one frame per game), got "
                         f"render_mode={render_mode!r} (render a single env for the others)")
    if callable(shaping):
        raise ValueError(
            "a callable shaping cannot be vectorized (it sees one game's store at a time); use "
            "shaping='oracle', 'potential', 'prediction', 'world' or 'world_potential' here, or the single env ThoughtTicTacToeEnv"
        )
    if isinstance(opponent, str) and opponent not in OPPONENTS:
        raise ValueError(f"opponent must be {_OPPONENT_KINDS}, got {opponent!r}")
    if not isinstance(opponent, str) and not callable(opponent):
        raise TypeError(f"opponent must be {_OPPONENT_KINDS}, got {opponent!r} of type {type(opponent).__name__}")


def check_episode_limit(max_episode_steps: int | None, bound: int) -> None:
    # gymnasium.make_vec passes the registered limit. Episodes end by themselves within the bound, and
    # the vector env does not truncate, so a smaller limit is an error rather than a silent change.
    if max_episode_steps is not None and max_episode_steps < bound:
        raise ValueError(
            f"max_episode_steps must be None or >= {bound} (episodes of this "
            f"configuration end by themselves within that many steps; the vector env never truncates), "
            f"got {max_episode_steps!r}"
        )


def no_solver_table(opponent: Any, shaping: Any, rows: int, cols: int) -> None:
    what = "opponent='minimax'" if opponent == "minimax" else f"shaping={shaping!r}"
    raise ValueError(
        f"{what} in the vector env reads the solver's complete table (Solver.tables()), which exists only "
        f"for boards of up to {SOLVER_TABLE_CELLS} cells; got {rows}x{cols} = {rows * cols} cells. Use opponent="
        "'random' or 'heuristic' and shaping=None, 'prediction', 'world' or 'world_potential', or the single env ThoughtTicTacToeEnv"
    )
