"""Episode recording (RecordEpisode, EpisodeRecorder) and replay as GIF / HTML; rgb_array frames for video."""

from __future__ import annotations

import json
import re

import gymnasium
import numpy as np
import pytest

import tttthought_env  # noqa: F401
from tttthought_env.cli import main as cli_main
from tttthought_env.config import Config
from tttthought_env.core import Game
from tttthought_env.layout import layout_for
from tttthought_env.render import ASSERTED, MARKER, NEGATED, render_ansi, render_rgb
from tttthought_env.replay import (
    FORMAT,
    EpisodeRecorder,
    RecordEpisode,
    episode_frames,
    episode_games,
    load_episode,
    replay_episode,
    snapshot,
    write_gif,
    write_html,
)

PIL = pytest.importorskip("PIL.Image")


def _random_episodes(env, episodes: int, seed: int = 0) -> list[float]:
    rng = np.random.default_rng(seed)
    returns = []
    for episode in range(episodes):
        _, info = env.reset(seed=seed + episode)
        total, done = 0.0, False
        while not done:
            action = int(rng.choice(np.flatnonzero(info["action_mask"])))
            _, reward, terminated, truncated, info = env.step(action)
            total += reward
            done = terminated or truncated
        returns.append(total)
    return returns


def _scripted_episode(tmp_path, memory_size=None):
    """X (the agent) thinks propose 4, negate 0, marker 1, moves 4; O (minimax) replies; X forgets 4 and moves."""
    kwargs = {} if memory_size is None else {"memory_size": memory_size}
    env = RecordEpisode(gymnasium.make("tttthought/Full-v0", opponent="minimax", opponent_epsilon=0.0,
                                       shaping="oracle", **kwargs), tmp_path)
    base = env.unwrapped
    env.reset(seed=3)
    for channel, arg in (("propose", 4), ("negate", 0), ("marker", 1), ("move", 4)):
        env.step(base.encode_action(channel, arg))
    if memory_size is None:
        env.step(base.encode_action("forget", 4))
        env.step(int(np.flatnonzero(base.game.board == 0)[0]))
    env.close()  # the unfinished episode is written on close
    return env.paths[-1]


def test_record_episode_writes_json_lines_with_snapshots(tmp_path):
    env = RecordEpisode(gymnasium.make("tttthought/Full-v0", shaping="potential", agent_player="random"), tmp_path)
    returns = _random_episodes(env, 3)
    env.close()
    assert [p.name for p in env.paths] == [f"episode-{i:06d}.jsonl" for i in range(3)]
    for path, episode_return in zip(env.paths, returns):
        lines = [json.loads(text) for text in path.read_text().splitlines()]
        assert lines[0]["type"] == "reset" and lines[0]["format"] == FORMAT
        assert lines[0]["env_id"] == "tttthought/Full-v0"
        steps = lines[1:]
        assert steps and all(s["type"] == "step" for s in steps)
        for s in steps:
            assert set(s) >= {"action", "kind", "arg", "thought", "reward", "reward_parts", "mask", "board", "stores",
                              "to_move", "winner", "thoughts_left"}
            assert s["mask"][s["action"]] == 1, "the recorded mask is the one the action was chosen from"
            assert (s["thought"] is None) == (s["kind"] == "move")
            assert s["reward"] == pytest.approx(sum(s["reward_parts"].values()))
        assert sum(s["reward"] for s in steps) == pytest.approx(episode_return)
        assert steps[-1]["terminated"] and steps[-1]["outcome"] in ("win", "draw", "loss")
        assert steps[-1]["winner"] != -1


def test_episode_trigger_and_refuses_other_envs(tmp_path):
    env = RecordEpisode(gymnasium.make("tttthought/Plain-v0"), tmp_path, episode_trigger=lambda i: i % 2 == 1)
    _random_episodes(env, 4)
    env.close()
    assert [p.name for p in env.paths] == ["episode-000001.jsonl", "episode-000003.jsonl"]
    with pytest.raises(TypeError, match="tttthought envs"):
        RecordEpisode(gymnasium.make("CartPole-v1"), tmp_path)


def _record_random_game(config: Config, seed: int, steps: int = 40) -> tuple[list[dict], list[Game]]:
    """A random game on a bare Game, recorded; the records and a copy of the game at every line."""
    game = Game(layout_for(config))
    recorder = EpisodeRecorder(game)
    recorder.reset(seed=seed)
    originals = [game.copy()]
    rng = np.random.default_rng(seed)
    for _ in range(int(rng.integers(0, steps))):
        if game.done:
            break
        player, mask = game.to_move, game.legal_mask()
        action = int(rng.choice(np.flatnonzero(mask)))
        game.step(action)
        recorder.step(player, action, mask, terminated=game.done)
        originals.append(game.copy())
    return json.loads(json.dumps(recorder.lines)), originals


def _assert_same_game(rebuilt: Game, original: Game) -> None:
    assert snapshot(rebuilt) == snapshot(original)
    assert np.array_equal(rebuilt.board, original.board)
    for player in (0, 1):
        assert np.array_equal(rebuilt.legal_mask(player), original.legal_mask(player))
        assert np.array_equal(rebuilt.observation(player), original.observation(player))
        assert rebuilt.store_entries(player) == original.store_entries(player)
    assert np.array_equal(render_rgb(rebuilt), render_rgb(original))
    assert render_ansi(rebuilt) == render_ansi(original)


@pytest.mark.parametrize("config", [Config(memory_size=4), Config(persist="turn"), Config(rows=4, cols=4, k=3),
                                    Config(channels=("negate", "marker"), max_thoughts=2, num_markers=3,
                                           memory_size=2)])
def test_a_replay_rebuilds_every_position_through_the_rules(config):
    """Legal masks, observations and boards of the rebuilt games equal the original's at every line.

    (The snapshot rebuild this replaced wrote fields by hand: its legal_mask() said occupied cells were legal.)
    """
    for seed in range(15):
        records, originals = _record_random_game(config, seed)
        rebuilt = episode_games(records)
        assert len(rebuilt) == len(originals)
        for game, original in zip(rebuilt, originals):
            _assert_same_game(game, original)


def test_a_gymnasium_replay_rebuilds_replies_and_illegal_actions(tmp_path):
    env = RecordEpisode(gymnasium.make("tttthought/Full-v0", opponent="random", agent_player="O",
                                       memory_size=3), tmp_path)
    base = env.unwrapped
    rng = np.random.default_rng(0)
    for episode in range(6):
        _, info = env.reset(seed=episode)
        originals, done = [base.game.copy()], False
        while not done:
            illegal = episode % 2 == 1 and rng.random() < 0.2
            pool = np.flatnonzero(~info["action_mask"] if illegal else info["action_mask"])
            _, _, terminated, truncated, info = env.step(int(rng.choice(pool)))
            originals.append(base.game.copy())
            done = terminated or truncated
        records = load_episode(env.paths[-1])
        replay = replay_episode(records)
        for game, original in zip(replay.games, originals, strict=True):
            _assert_same_game(game, original)
        for step in replay.steps:
            assert step.illegal == bool(step.record["illegal_action"])
            if step.reply is not None:  # the frame between the move and the reply
                assert step.moved.board[step.reply] == 0 and step.moved.board[step.arg] == 1 + step.player
    env.close()


def test_a_file_the_rules_do_not_reproduce_is_refused(tmp_path):
    records, _ = _record_random_game(Config(), seed=1, steps=60)
    assert len(records) > 3
    tampered = json.loads(json.dumps(records))
    tampered[2]["board"][tampered[2]["board"].index(0)] = 2  # a mark the actions never made
    with pytest.raises(ValueError, match="line 3: replaying the recorded actions gives board"):
        episode_frames(tampered)
    tampered = json.loads(json.dumps(records))
    tampered[3]["action"] = 10 ** 6
    with pytest.raises(ValueError, match=r"line 4: .action. must be an int in \[0, 37\]"):
        episode_games(tampered)


def test_the_recorder_starts_at_the_start():
    game = Game(layout_for(Config()))
    game.step(4)
    with pytest.raises(ValueError, match="needs the game at its start"):
        EpisodeRecorder(game).reset()
    EpisodeRecorder(game).reset(opponent_move=4)  # X's opening, as the Gymnasium env plays it for an O learner


def test_replay_shows_thoughts_as_they_happen(tmp_path):
    path = _scripted_episode(tmp_path)
    records = load_episode(path)
    frames = episode_frames(records)
    captions = [f.caption for f in frames]
    assert [f.event for f in frames] == ["start", "propose", "negate", "marker", "move", "reply", "forget", "move",
                                         "reply"]
    assert "asserts +4" in captions[1] and "negates 0" in captions[2] and "marker #1" in captions[3]
    assert "moves 4" in captions[4] and "replies" in captions[5] and "forgets +4" in captions[6]
    assert [f.game.store_string(0) for f in frames[:7]] == ["", "+4", "+4 -0", "+4 -0 #1", "+4 -0 #1", "+4 -0 #1",
                                                            "-0 #1"]
    assert frames[4].game.board[4] == 1 and np.count_nonzero(frames[4].game.board) == 1  # the move before the reply
    assert np.count_nonzero(frames[5].game.board) == 2

    gif = write_gif(records, tmp_path / "ep.gif")
    image = PIL.open(gif)
    assert image.n_frames == len(frames)

    height, width, _ = render_rgb(frames[0].game).shape

    def colours(index):
        image.seek(index)
        pixels = np.asarray(image.convert("RGB"))[:height, :width]  # the picture, not the legend or captions
        return {name: bool(np.all(pixels == colour, axis=-1).any())
                for name, colour in (("asserted", ASSERTED), ("negated", NEGATED), ("marker", MARKER))}

    assert colours(0) == {"asserted": False, "negated": False, "marker": False}
    assert colours(1)["asserted"] and not colours(1)["negated"]
    assert colours(2)["asserted"] and colours(2)["negated"]
    assert colours(3)["marker"]
    assert not colours(6)["asserted"] and colours(6)["negated"]  # +4 forgotten, -0 kept


def test_replay_names_evictions(tmp_path):
    records = load_episode(_scripted_episode(tmp_path, memory_size=2))
    captions = [f.caption for f in episode_frames(records)]
    assert "evicting +4" in captions[3]  # marker 1 into a full store of 2 pushes out the oldest entry


def test_html_is_self_contained_and_steps_through(tmp_path):
    path = _scripted_episode(tmp_path)
    page = write_html(path, tmp_path / "ep.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"(src|href)\s*=|https?://|@import", page), "no external resources"
    assert page.count('<section class="frame') == len(episode_frames(load_episode(path)))
    for text in ("asserts +4", "negates 0 (-0)", "adds marker #1", "forgets +4", "replies", "store", "<script>"):
        assert text in page
    assert 'class="pos' in page and 'class="neg' in page and 'class="marker"' in page


def test_recorder_for_pettingzoo_games(tmp_path):
    from tttthought_env.pettingzoo import raw_env

    env = raw_env()
    env.reset(seed=0)
    recorder = EpisodeRecorder(env.game, names={0: "alice", 1: "bob"})
    recorder.reset(seed=0)
    rng = np.random.default_rng(0)
    while not env.game.done:
        agent = env.agent_selection
        mask = env.action_masks(agent)
        action = int(rng.choice(np.flatnonzero(mask)))
        player = env.game.to_move
        env.step(action)
        recorder.step(player, action, mask, env.rewards[agent])
    path = recorder.write(tmp_path / "pz.jsonl")
    frames = episode_frames(load_episode(path))
    assert any("alice" in f.caption for f in frames) and any("bob" in f.caption for f in frames)
    assert write_gif(path, tmp_path / "pz.gif").stat().st_size > 0


def test_cli_replay_and_demo_record(tmp_path, capsys):
    episode = tmp_path / "demo.jsonl"
    assert cli_main(["demo", "--record", str(episode)]) == 0
    assert load_episode(episode)
    assert cli_main(["replay", str(episode)]) == 0
    assert (tmp_path / "demo.gif").exists() and (tmp_path / "demo.html").exists()
    assert cli_main(["replay", str(episode), "--gif", str(tmp_path / "x.gif")]) == 0
    assert (tmp_path / "x.gif").exists()
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    capsys.readouterr()
    assert cli_main(["replay", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.jsonl: line 1: not JSON" in err and "Traceback" not in err
    assert cli_main(["replay", str(tmp_path / "missing.jsonl")]) == 2
    assert "no episode file" in capsys.readouterr().err


def test_rgb_array_frames_fit_video_recorders(tmp_path):
    """render_mode="rgb_array" gives same-shape uint8 frames, as RecordVideo and RenderCollection need."""
    env = gymnasium.wrappers.RenderCollection(gymnasium.make("tttthought/Full-v0", render_mode="rgb_array"))
    _random_episodes(env, 1)
    frames = env.render()
    assert len(frames) >= 2
    assert all(f.dtype == np.uint8 and f.ndim == 3 and f.shape[2] == 3 and f.shape == frames[0].shape
               for f in frames)


def test_record_video_with_moviepy(tmp_path):
    pytest.importorskip("moviepy", reason="moviepy is not installed: Gymnasium's RecordVideo needs it to write "
                                          "video (the frames themselves are tested in "
                                          "test_rgb_array_frames_fit_video_recorders)")
    env = gymnasium.wrappers.RecordVideo(gymnasium.make("tttthought/Full-v0", render_mode="rgb_array"),
                                         str(tmp_path), episode_trigger=lambda i: True, disable_logger=True)
    _random_episodes(env, 1)
    env.close()
    assert list(tmp_path.glob("*.mp4"))
