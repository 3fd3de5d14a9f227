"""The env-level step around the rules, written once for the Gymnasium, PettingZoo and vector envs.

The rules (:mod:`tttthought_env.core`) say what an action does to a game; this module says what an
env makes of it: an illegal action is a loss or an error, the game reward of an outcome, the
outcome's name. The vector env applies the same functions to arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from tttthought_env.config import EnvOptions
    from tttthought_env.core import Game
    from tttthought_env.shaping import Shaping

#: ``winner`` codes of a game: still running, X (player 0) won, O (player 1) won, a draw.
WINNER_NONE, WINNER_X, WINNER_O, WINNER_DRAW = -1, 0, 1, 2
#: ``info["outcome"]`` names, indexed by the outcome code (the vector env's ``infos["outcome"]``).
OUTCOMES: tuple[str, ...] = ("win", "draw", "loss")
#: ``info["step_kind"]`` names, indexed by the step-kind code (the vector env's ``infos["step_kind"]``).
STEP_KINDS: tuple[str, ...] = ("move", "thought")
MOVE, THOUGHT = 0, 1  # step-kind codes
#: ``info["step_kind"]`` at a reset, and for a PettingZoo agent that did not act in the step.
NO_STEP = -1
#: ``info["outcome"]`` while the game runs.
RUNNING = -1
#: The keys of every info dict of every env, at reset and at every step, for every agent.
INFO_KEYS: tuple[str, ...] = ("action_mask", "reward_game", "reward_shaping", "reward_cost", "step_kind", "outcome",
                              "thoughts", "illegal_action")


def outcome_code(winner: Any, player: Any) -> Any:
    """Index into :data:`OUTCOMES` of a finished game for ``player``: 0 win, 1 draw, 2 loss.

    Arithmetic only, so it runs on Python ints and on integer arrays alike.
    """
    is_draw = 1 * (winner == WINNER_DRAW)
    is_win = 1 * (winner == player)
    return is_draw + 2 * (1 - is_draw - is_win)


def info_of(action_mask: Any, reward_game: float = 0.0, reward_shaping: float = 0.0, reward_cost: float = 0.0,
            step_kind: int = NO_STEP, outcome: int = RUNNING, thoughts: int = 0,
            illegal_action: bool = False) -> dict[str, Any]:
    """The one info shape (:data:`INFO_KEYS`): numbers only, codes for names (:data:`STEP_KINDS`,
    :data:`OUTCOMES`), so that Tianshou, TorchRL and Minari can batch and store it as it is."""
    return {"action_mask": action_mask, "reward_game": reward_game, "reward_shaping": reward_shaping,
            "reward_cost": reward_cost, "step_kind": step_kind, "outcome": outcome, "thoughts": thoughts,
            "illegal_action": illegal_action}


def outcome_name(outcome: int) -> str | None:
    """The name of an ``info["outcome"]`` code, ``None`` while the game runs."""
    return None if outcome == RUNNING else OUTCOMES[outcome]


def game_reward(outcome: int, draw_reward: float) -> float:
    """The game reward of an outcome code: ``+1`` win, ``draw_reward`` draw, ``-1`` loss."""
    return (1.0, draw_reward, -1.0)[outcome]


class Transition(NamedTuple):
    """What one action did, per player ``[X, O]``: the shaping and cost rewards, the kind, legality."""

    kind: int  # index into STEP_KINDS
    shaping: list[float]
    cost: list[float]
    illegal: bool = False


def play_move(game: Game, cell: int, shaping: Shaping | None) -> list[float]:
    """The player to move marks ``cell`` (legal); the shaping it earns each player."""
    if shaping is None:
        game.move(cell)
        return [0.0, 0.0]
    player = game.to_move
    shaping.before_move(game, player)
    game.move(cell)
    return shaping.after_move(game, player, cell)


def play_action(game: Game, player: int, action: int, shaping: Shaping | None, options: EnvOptions,
                actor: str = "") -> Transition:
    """One action of ``player``, as every env sees it.

    An illegal action (any action once the game is over) is a ``ValueError`` under
    ``illegal_action="raise"`` (the game unchanged), else a loss for ``player`` where the game stands.
    ``actor`` names the player in that error.
    """
    kind = MOVE if action < game.n else THOUGHT
    if not game.is_legal(action, player):
        if options.illegal_action == "raise":
            channel, arg = game.layout.decode[action]
            of = f" of {actor}" if actor else ""
            raise ValueError(f"action {action} ({channel} {arg}){of} is illegal: {game.illegal_reason(action, player)}")
        game.forfeit(player)
        return Transition(kind, shaping.game_over() if shaping is not None else [0.0, 0.0], [0.0, 0.0], True)
    if kind == MOVE:
        return Transition(kind, play_move(game, action, shaping), [0.0, 0.0])
    cost, reward_shaping = [0.0, 0.0], [0.0, 0.0]
    cost[player] = -options.thought_cost
    if shaping is None:
        game.think(action)
    else:
        before = shaping.view(game, player) if shaping.wants_views else None
        channel, arg, removed = game.think(action)
        reward_shaping[player] = shaping.thought(game, player, channel, arg, removed, before)
    return Transition(kind, reward_shaping, cost)


def end_rewards(game: Game, draw_reward: float) -> tuple[list[int], list[float]]:
    """Outcome codes and game rewards ``[X, O]`` of a finished game."""
    outcomes = [outcome_code(game.winner, player) for player in (0, 1)]
    return outcomes, [game_reward(code, draw_reward) for code in outcomes]
