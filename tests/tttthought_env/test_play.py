"""The parts of ``tttthought play``: reading a command, the computer's side, one game session.

The whole command, driven through stdin, is tested in tests/tttthought_env/test_cli.py.
"""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

from tttthought_env.pettingzoo_env import raw_env
from tttthought_env.play import AgentPlayer, Computer, GameSession, PlayError, _numbered, parse_command, play


def _env(**kwargs):
    env = raw_env(illegal_action="raise", **kwargs)
    env.reset(seed=0)
    return env


@pytest.mark.parametrize("text, expected", [
    ("4", ("move", 4)), ("move 4", ("move", 4)), ("play 4", ("move", 4)), ("+4", ("propose", 4)),
    ("propose 4", ("propose", 4)), ("p, 4", ("propose", 4)), ("-0", ("negate", 0)), ("n 0", ("negate", 0)),
    ("#1", ("marker", 1)), ("mark 1", ("marker", 1)), ("  MARKER 0 ", ("marker", 0)),
])
def test_parse_command_reads_moves_and_thoughts(text, expected):
    env = _env()
    kind, action = parse_command(text, env, 0)
    assert kind == "action" and env.decode_action(action) == expected


@pytest.mark.parametrize("text, kind", [("quit", "quit"), ("q", "quit"), ("exit now", "quit"), ("help", "help"),
                                        ("?", "help"), ("board", "board"), ("b", "board")])
def test_parse_command_reads_keywords(text, kind):
    assert parse_command(text, _env(), 0) == (kind, None)


@pytest.mark.parametrize("text, message", [
    ("", "type a cell number to move, or 'help'"),
    ("dance 4", "I did not understand 'dance 4'"),
    ("propose 4 5", "I did not understand 'propose 4 5'"),
    ("forget 3", "forget 3 is not allowed: neither +3 nor -3 is in the store"),
    ("marker 5", "marker must be 0-1, got 5"),
    ("marker x", "marker needs a marker number 0-1, got 'x'"),
    ("9", "cell must be 0-8, got 9"),
])
def test_parse_command_says_what_is_wrong(text, message):
    kind, said = parse_command(text, _env(), 0)
    assert kind == "error" and message in said


def test_parse_command_knows_the_tasks_channels():
    kind, said = parse_command("forget 1", _env(channels=("propose",)), 0)
    assert kind == "error" and said == "the 'forget' thought is not part of this task; its thoughts are: propose"
    env = _env(channels=("propose",))
    env.step(env.encode_action("propose", 1))
    env.step(env.encode_action("propose", 2))
    env.step(env.encode_action("propose", 3))
    kind, said = parse_command("+4", env, 0)
    assert kind == "error" and "no thoughts are left this turn" in said


def _session(lines, choices, me=0, **env_kwargs):
    env = _env(**env_kwargs)
    out = io.StringIO()
    script = iter(choices)
    computer = Computer("bot", lambda env, player: env.encode_action(*next(script)))
    session = GameSession(env, computer, me, io.StringIO("".join(f"{line}\n" for line in lines)), out)
    return session, out


def test_the_computer_shows_its_thoughts_with_its_move():
    session, out = _session([], [("propose", 4), ("negate", 0), ("move", 4)], me=1)
    session.computer_turn()
    assert out.getvalue().splitlines() == ["bot (X) thinks: propose 4, negate 0  -> store +4 -0", "bot (X) moves 4"]
    assert session.game.to_move == 1 and session.game.board[4] == 1


def test_a_session_plays_to_the_end_or_stops_at_the_end_of_input():
    session, out = _session(["+0", "0", "1", "2"], [("move", 3), ("move", 4)])
    assert session.run() and session.outcome() == "win"
    text = out.getvalue()
    assert "you think propose 0: your store is now +0" in text and "you move 2" in text
    assert "bot (O) moves 4" in text and text.count("your move") == 4

    session, out = _session(["help", "board"], [])
    assert not session.run()
    assert "help shows this" in out.getvalue() and out.getvalue().endswith("(end of input)\n")
    assert not session.game.done and np.count_nonzero(session.game.board) == 0


def test_numbered_record_paths():
    assert _numbered("runs/game.jsonl", 2) == "runs/game-2.jsonl"
    assert _numbered("game", 0) == "game-0.jsonl"


def test_the_board_shows_cell_numbers_and_help_stops_listing_thoughts_when_none_are_left():
    import io

    from tttthought_env.play import play

    out = io.StringIO()
    play(task="tttthought/Propose-v0", opponent="minimax", seed=0, input=io.StringIO("propose 4\nhelp\n4\nquit\n"),
         output=out)
    text = out.getvalue()
    assert " 0 | 1 | 2" in text and " 3 | X | 5" in text  # empty cells by number, marks as marks
    assert "A thought (propose) edits your private store, never the board" in text
    help_text = text.split("you think propose 4")[1].split("you move 4")[0]
    assert "no thoughts are left this turn: you must move" in help_text and "propose P" not in help_text


# ----------------------------------------------------------------- saved token networks (--arch)
@pytest.fixture(scope="module")
def token_agents(tmp_path_factory):
    """A tiny transformer and deepsets MaskablePPO, trained 256 steps and saved as ``train --save`` saves them
    (weights + run config): ``{arch: weights path}``."""
    pytest.importorskip("sb3_contrib")
    from baselines.config import make_run_config
    from baselines.envs import make_train_env
    from baselines.train import build_model, save_model

    folder, paths = tmp_path_factory.mktemp("token_agents"), {}
    for arch in ("transformer", "deepsets"):
        config = make_run_config("maskable_ppo", "thoughts", capacity="tiny", arch=arch, seed=0, total_timesteps=256)
        config["hyperparams"].update(n_envs=2, n_steps=64, batch_size=64, n_epochs=1)
        model = build_model(config, make_train_env(config["task"], 2, config["env"], 0))
        model.learn(256)
        paths[arch] = save_model(model, folder / arch, config)
    return paths


@pytest.mark.parametrize("arch, side", [("transformer", "O"), ("deepsets", "X")])
@pytest.mark.filterwarnings("ignore:.*maximum and minimum values are equal")  # the loader's env, at the budget row
def test_a_saved_token_network_plays_a_whole_game_through_the_cli(token_agents, arch, side, monkeypatch, capsys):
    """`tttthought play --opponent x.safetensors` of a token network: the agent sees token observations and each of
    its actions (thoughts too) is legal and is what the loaded SB3 model's predict chooses."""
    from baselines.checkpoints import load_checkpoint
    from tttthought_env import cli

    seen = []
    act = AgentPlayer.act

    def spy(self, env, agent):
        obs, mask = env.observe(agent), env.action_masks(agent)
        action = act(self, env, agent)
        seen.append((obs, mask, action))
        return action

    monkeypatch.setattr(AgentPlayer, "act", spy)
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{cell}\n" for cell in list(range(9)) * 3)))
    assert cli.main(["play", "--opponent", str(token_agents[arch]), "--you", side, "--seed", "0"]) == 0
    out = capsys.readouterr()
    assert any(end in out.out for end in ("You win!", "A draw.", "agent wins.")) and "Traceback" not in out.err
    model, config = load_checkpoint(token_agents[arch])
    assert config["arch"] == arch and config["env"]["obs_mode"] == "tokens"
    assert len(seen) >= 3 and any(action >= 9 for _, _, action in seen)  # it moved and it thought
    for obs, mask, action in seen:
        assert set(obs) == {"tokens", "token_mask", "action_mask"} and mask[action]
        predicted, _ = model.predict(obs, action_masks=mask, deterministic=True)
        assert int(predicted) == action


def test_a_token_network_with_a_missing_or_garbled_run_config_is_one_line_naming_it(token_agents, tmp_path):
    weights = tmp_path / "agent.safetensors"
    weights.write_bytes(token_agents["transformer"].read_bytes())
    for text, why in ((None, "is missing"), ("{garbled", "not a readable JSON run config"),
                      ('{"algo": "maskable_ppo"}', "run config key 'task' must be a str")):
        if text is not None:
            (tmp_path / "agent.json").write_text(text)
        with pytest.raises(PlayError, match=f"agent.json.*{why}") as info:
            AgentPlayer(str(weights))
        assert len(str(info.value).splitlines()) == 1
        with pytest.raises(PlayError, match="agent.json"):
            play(opponent=str(weights), task=None, input=io.StringIO("quit\n"), output=io.StringIO())


def test_a_token_network_without_the_baselines_extra_says_what_to_install(token_agents, monkeypatch):
    monkeypatch.delitem(sys.modules, "baselines.train", raising=False)  # re-imported by the loader, without SB3
    for name in ("stable_baselines3", "sb3_contrib"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(PlayError, match=r"deepsets agent needs .*pip install 'tttthought-env\[baselines\]' "
                                        r"-c constraints.txt") as info:
        AgentPlayer(str(token_agents["deepsets"]))
    assert len(str(info.value).splitlines()) == 1


def test_a_token_network_is_refused_on_a_task_of_another_shape(token_agents):
    with pytest.raises(PlayError, match=r"38 actions and 19 tokens .*Plain-v0.*; try --task tttthought/Full-v0"):
        play(opponent=str(token_agents["transformer"]), task="Plain-v0", input=io.StringIO("quit\n"),
             output=io.StringIO())
