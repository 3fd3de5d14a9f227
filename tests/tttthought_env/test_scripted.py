"""The scripted thinkers, through the env API: the note-taker solves the last-move twin by its notes alone."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

import tttthought_env  # noqa: F401  (registers the ids)
from tttthought_env.config import Config
from tttthought_env.layout import winning_lines
from tttthought_env.pettingzoo import raw_env
from tttthought_env.scripted import NoteTaker, OptimalProposer
from tttthought_env.solver import get_solver
from tttthought_env.transition import OUTCOMES


def play(env, player, games: int, seed: int) -> dict[str, int]:
    """Outcomes of ``games`` games of ``player`` (a callable of the observation and the mask)."""
    counts = {name: 0 for name in OUTCOMES}
    for game in range(games):
        obs, info = env.reset(seed=seed + game)
        while True:
            obs, _, terminated, _, info = env.step(player(obs, info["action_mask"]))
            if terminated:
                counts[OUTCOMES[info["outcome"]]] += 1
                assert not info["illegal_action"]
                break
    return counts


@pytest.mark.parametrize("task", ["LastMove-Propose-v0", "LastMove-Full-v0"])
@pytest.mark.parametrize("opponent, epsilon", [("minimax", 0.0), ("minimax", 0.5), ("random", 0.0)])
def test_the_note_taker_never_loses(task, opponent, epsilon):
    env = gymnasium.make(f"tttthought/{task}", opponent=opponent, opponent_epsilon=epsilon, agent_player="random")
    counts = play(env, NoteTaker(env.unwrapped.config), games=150, seed=0)
    assert counts["loss"] == 0
    if opponent == "random":
        assert counts["win"] > 100  # perfect play beats a random opponent most of the time


def test_no_memoryless_player_is_perfect_in_the_last_move_view():
    """The store is necessary: some positions look the same in the last-move view (the same occupied cells and
    last move) but share no optimal move, so every player without a store errs in one of them."""
    solver = get_solver(3, 3, 3)
    lines = winning_lines(3, 3, 3)
    seen: dict[tuple[int, int], list[int]] = {}  # (occupied, last move) -> optimal bits of each true position

    def won(marks: int) -> bool:
        return any(all(marks >> c & 1 for c in line) for line in lines)

    def visit(x: int, o: int, last: int, done: set) -> None:
        if (x, o, last) in done or won(x) or won(o) or (x | o) == 511:
            return
        done.add((x, o, last))
        seen.setdefault((x | o, last), []).append(int(solver.optimal_bits_from_marks(x, o)))
        x_to_move = x.bit_count() == o.bit_count()
        for cell in range(9):
            if not (x | o) >> cell & 1:
                visit(x | 1 << cell, o, cell, done) if x_to_move else visit(x, o | 1 << cell, cell, done)

    visit(0, 0, -1, set())
    ambiguous = [key for key, optimal in seen.items() if len(set(optimal)) > 1]
    hopeless = [key for key, optimal in seen.items() if np.bitwise_and.reduce(optimal) == 0]
    assert len(seen) > 1000 and len(ambiguous) > 100 and len(hopeless) > 10


def test_the_note_taker_plays_both_sides_in_pettingzoo():
    e = raw_env(view="last_move", channels=("propose",), max_thoughts=1)
    takers = NoteTaker(e.config)
    for seed in range(5):
        e.reset(seed=seed)
        for agent in e.agent_iter():
            obs, _, terminated, truncated, _ = e.last()
            e.step(None if terminated or truncated else takers(obs, obs["action_mask"]))  # the dict, as it comes
        assert e.game.winner == 2  # perfect play on both sides: a draw


def test_the_optimal_proposer_proposes_then_plays_optimally():
    env = gymnasium.make("tttthought/Full-v0", opponent="minimax", opponent_epsilon=0.5, agent_player="random")
    proposer = OptimalProposer(env.unwrapped.config)
    obs, info = env.reset(seed=3)
    action = proposer(obs, info["action_mask"])
    assert env.unwrapped.decode_action(action)[0] == "propose"
    assert play(env, proposer, games=60, seed=0)["loss"] == 0


@pytest.mark.parametrize("cls, kwargs, message", [
    (NoteTaker, {}, "NoteTaker plays view='last_move'"),
    (NoteTaker, dict(view="last_move", persist="turn"), "needs persist='game' and memory_size >= 5"),
    (NoteTaker, dict(view="last_move", memory_size=4), "memory_size >= 5, got persist='game', memory_size=4"),
    (OptimalProposer, dict(view="last_move"), "OptimalProposer plays view='full'"),
    (OptimalProposer, dict(channels=("negate",)), "thinks with the 'propose' channel"),
])
def test_unsuitable_configs_are_named_errors(cls, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        cls(Config(**kwargs))
    with pytest.raises(TypeError, match="config must be a tttthought_env.config.Config"):
        cls({"view": "last_move"})
