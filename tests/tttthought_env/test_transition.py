"""``tttthought_env.transition``: the env-level step around the rules (illegal actions, costs, outcomes),
written once for every env."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tttthought_env.config import Config, EnvOptions
from tttthought_env.core import Game
from tttthought_env.layout import layout_for
from tttthought_env.shaping import Shaping
from tttthought_env.transition import (
    INFO_KEYS,
    MOVE,
    NO_STEP,
    OUTCOMES,
    RUNNING,
    STEP_KINDS,
    THOUGHT,
    WINNER_DRAW,
    WINNER_NONE,
    WINNER_O,
    WINNER_X,
    Transition,
    end_rewards,
    game_reward,
    info_of,
    outcome_code,
    outcome_name,
    play_action,
    play_move,
)

LOSE, RAISE = EnvOptions(illegal_action="lose", thought_cost=0.25), EnvOptions(illegal_action="raise")


def new_game(**kwargs) -> Game:
    return Game(layout_for(Config(**kwargs)))


def enc(game: Game, channel: str, arg: int) -> int:
    return game.layout.encode_action(channel, arg)


def state(game: Game) -> tuple:
    """Everything a game holds, as plain values."""
    return (list(game.marks), list(game.pos), list(game.neg), [list(s) for s in game.stores],
            list(game.thoughts_left), game.to_move, game.winner)


def test_codes_and_names():
    assert (WINNER_NONE, WINNER_X, WINNER_O, WINNER_DRAW) == (-1, 0, 1, 2)
    assert OUTCOMES == ("win", "draw", "loss") and STEP_KINDS == ("move", "thought")
    assert (STEP_KINDS[MOVE], STEP_KINDS[THOUGHT]) == ("move", "thought")
    assert NO_STEP == RUNNING == -1
    assert INFO_KEYS == ("action_mask", "reward_game", "reward_shaping", "reward_cost", "step_kind", "outcome",
                         "thoughts", "illegal_action")


def test_info_of_defaults_are_a_reset_info():
    mask = np.ones(4, bool)
    info = info_of(mask)
    assert tuple(info) == INFO_KEYS and info["action_mask"] is mask
    assert info == {"action_mask": mask, "reward_game": 0.0, "reward_shaping": 0.0, "reward_cost": 0.0,
                    "step_kind": NO_STEP, "outcome": RUNNING, "thoughts": 0, "illegal_action": False}
    assert [type(info[k]) for k in INFO_KEYS[1:]] == [float, float, float, int, int, int, bool]


def test_info_of_keeps_every_value_numeric():
    info = info_of(np.zeros(3, bool), 1.0, 0.5, -0.25, THOUGHT, 0, 2, True)
    assert tuple(info) == INFO_KEYS
    assert (info["reward_game"], info["reward_shaping"], info["reward_cost"]) == (1.0, 0.5, -0.25)
    assert (info["step_kind"], info["outcome"], info["thoughts"], info["illegal_action"]) == (THOUGHT, 0, 2, True)
    assert not any(isinstance(v, str) or v is None for v in info.values())


def test_outcome_name():
    assert outcome_name(RUNNING) is None
    assert [outcome_name(code) for code in range(3)] == ["win", "draw", "loss"]


@pytest.mark.parametrize("winner, player, outcome", [(WINNER_X, 0, "win"), (WINNER_X, 1, "loss"), (WINNER_O, 1, "win"),
                                                     (WINNER_O, 0, "loss"), (WINNER_DRAW, 0, "draw"),
                                                     (WINNER_DRAW, 1, "draw")])
def test_outcome_code_on_ints_and_arrays(winner, player, outcome):
    assert OUTCOMES[outcome_code(winner, player)] == outcome
    winners = np.array([winner] * 3, np.int64)
    players = np.array([player] * 3, np.int8)
    np.testing.assert_array_equal(outcome_code(winners, players), [OUTCOMES.index(outcome)] * 3)


def test_outcome_code_on_a_mixed_batch():
    winners = np.array([WINNER_X, WINNER_X, WINNER_O, WINNER_O, WINNER_DRAW, WINNER_DRAW])
    players = np.array([0, 1, 0, 1, 0, 1])
    expected = [outcome_code(int(w), int(p)) for w, p in zip(winners, players)]
    assert expected == [0, 2, 2, 0, 1, 1]
    np.testing.assert_array_equal(outcome_code(winners, players), expected)


@pytest.mark.parametrize("draw_reward", [0.0, 0.5, -0.25])
def test_game_reward(draw_reward):
    assert [game_reward(code, draw_reward) for code in range(3)] == [1.0, draw_reward, -1.0]
    assert all(type(game_reward(code, draw_reward)) is float for code in range(3))


def test_end_rewards_of_win_draw_and_loss():
    game = new_game()
    for c in (0, 3, 1, 4, 2):
        game.move(c)
    assert end_rewards(game, 0.5) == ([0, 2], [1.0, -1.0])
    game = new_game()
    for c in (0, 3, 1, 4, 8, 5):
        game.move(c)
    assert end_rewards(game, 0.5) == ([2, 0], [-1.0, 1.0])
    game = new_game()
    for c in (1, 0, 3, 2, 4, 5, 6, 7, 8):
        game.move(c)
    assert end_rewards(game, 0.5) == ([1, 1], [0.5, 0.5])


# --------------------------------------------------------------------------- legal actions


def test_a_legal_thought_costs_the_thinker_only():
    game = new_game()
    game.move(4)  # O to think
    step = play_action(game, 1, enc(game, "propose", 2), None, LOSE)
    assert step == Transition(1, [0.0, 0.0], [0.0, -0.25], False)
    assert STEP_KINDS[step.kind] == "thought"
    assert game.store_entries(1) == (("+", 2),) and game.to_move == 1 and game.thoughts_left == [3, 2]


def test_a_legal_move_costs_nothing_and_ends_the_turn():
    game = new_game()
    step = play_action(game, 0, 4, None, LOSE)
    assert step == Transition(0, [0.0, 0.0], [0.0, 0.0], False)
    assert game.board[4] == 1 and game.to_move == 1
    assert play_move(game, 0, None) == [0.0, 0.0]
    assert game.board[0] == 2 and game.to_move == 0


def test_play_move_pays_prediction_shaping_to_the_forecaster():
    game = new_game()
    shaping = Shaping("prediction", 0.5, 1.0, game.layout)
    play_action(game, 0, enc(game, "propose", 8), shaping, RAISE)
    assert play_move(game, 4, shaping) == [0.0, 0.0]  # X moves: nothing to judge yet
    assert play_move(game, 8, shaping) == [0.5, 0.0]  # O moves where X forecast


# --------------------------------------------------------------------------- illegal actions


ILLEGAL = [
    # (setup moves/thoughts, player, action, reason)
    ([4], 1, 4, "cell 4 is occupied"),
    ([("propose", 4)], 0, ("propose", 4), "+4 is already in the store"),
    ([("negate", 2)], 0, ("negate", 2), "-2 is already in the store"),
    ([4], 1, ("forget", 3), "neither +3 nor -3 is in the store"),
    ([("marker", 0)] * 3, 0, ("marker", 1), "no thoughts are left this turn"),
    ([0, 3, 1, 4, 2], 1, 5, "the game is over"),
    ([0, 3, 1, 4, 2], 0, ("propose", 5), "the game is over"),
]


def setup_game(setup) -> Game:
    game = new_game()
    for s in setup:
        game.step(enc(game, *s) if isinstance(s, tuple) else s)
    return game


@pytest.mark.parametrize("setup, player, action, reason", ILLEGAL)
def test_illegal_action_raise_names_it_and_changes_nothing(setup, player, action, reason):
    game = setup_game(setup)
    a = enc(game, *action) if isinstance(action, tuple) else action
    channel, arg = game.layout.decode[a]
    before = state(game)
    shaping = Shaping("prediction", 0.5, 1.0, game.layout)
    for actor, of in (("", ""), ("player_1", " of player_1")):
        message = f"action {a} ({channel} {arg}){of} is illegal: {reason}"
        with pytest.raises(ValueError, match=re.escape(message)):
            play_action(game, player, a, shaping, RAISE, actor=actor)
        assert state(game) == before
    assert shaping.predicted == [None, None] and shaping.phi == [0.0, 0.0]


@pytest.mark.parametrize("setup, player, action, reason", [c for c in ILLEGAL if c[3] != "the game is over"])
def test_illegal_action_lose_forfeits_where_the_game_stands(setup, player, action, reason):
    game = setup_game(setup)
    a = enc(game, *action) if isinstance(action, tuple) else action
    marks, stores = list(game.marks), [list(s) for s in game.stores]
    step = play_action(game, player, a, None, LOSE)
    assert step.illegal and step.kind == (0 if a < 9 else 1)
    assert step.cost == [0.0, 0.0] and step.shaping == [0.0, 0.0]  # an illegal thought costs nothing
    assert game.done and game.winner == 1 - player
    assert game.marks == marks and [list(s) for s in game.stores] == stores  # nothing was applied
    assert end_rewards(game, 0.0)[1][player] == -1.0
    assert not game.legal_mask(0).any() and not game.legal_mask(1).any()


def test_illegal_action_lose_pays_the_potential_back():
    game = new_game()
    shaping = Shaping("potential", 0.9, 1.0, game.layout)
    first = play_action(game, 0, enc(game, "propose", 4), shaping, LOSE)  # every move is optimal at first
    assert first.shaping == pytest.approx([0.1, 0.0])
    step = play_action(game, 0, enc(game, "propose", 4), shaping, LOSE)
    assert step.illegal and step.shaping == pytest.approx([-0.1, 0.0])  # Φ = 0 at the end


def test_illegal_reason_of_a_player_who_is_not_to_move_is_true():
    """play_action takes the player: an action of the player *not* to move is illegal, and the error says why.

    The cell is empty, so "cell 0 is occupied" would be false.
    """
    game = new_game()
    before = state(game)
    with pytest.raises(ValueError, match="is illegal") as err:
        play_action(game, 1, 0, None, RAISE, actor="player_1")
    assert "cell 0 is occupied" not in str(err.value)
    assert state(game) == before
