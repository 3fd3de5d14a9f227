"""Checkpoints never unpickle: weights (safetensors) + run config, hostile SB3 zips refused by eval and play."""

from __future__ import annotations

import io
import os
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sb3_contrib")
pytest.importorskip("safetensors")

from baselines.checkpoints import CheckpointError, checkpoint_paths  # noqa: E402
from baselines.cli import main as baselines_main  # noqa: E402
from baselines.config import make_run_config  # noqa: E402
from baselines.envs import make_train_env  # noqa: E402
from baselines.evaluate import make_scorer  # noqa: E402
from baselines.train import build_model, load_model, save_model  # noqa: E402
from tttthought_env.play import AgentPlayer, PlayError, play  # noqa: E402


class _Payload:
    """Unpickling this creates the marker file: proof that code in the checkpoint ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def hostile_zip(folder: Path, marker: Path, name: str = "evil") -> Path:
    """An SB3-style zip whose ``data`` member holds a pickled payload (as SB3 stores cloudpickle entries)."""
    import base64

    payload = base64.b64encode(pickle.dumps(_Payload(marker))).decode()
    data = {"policy_class": {":type:": "<class 'abc.ABCMeta'>", ":serialized:": payload},
            "observation_space": {":type:": "<class 'gymnasium.spaces.box.Box'>", ":serialized:": payload}}
    path = folder / f"{name}.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data", json.dumps(data))
        archive.writestr("_stable_baselines3_version", "2.0.0")
        archive.writestr("system_info.txt", "")
    config = make_run_config("maskable_ppo", "thoughts", capacity="tiny")
    (folder / f"{name}.json").write_text(json.dumps(config))
    return path


def _tiny_model(algo: str):
    config = make_run_config(algo, "thoughts", capacity="tiny", seed=0, total_timesteps=384)
    extra = {"n_steps": 64, "batch_size": 64} if algo == "maskable_ppo" else {"learning_starts": 64}
    config["hyperparams"].update(n_envs=2, **extra)
    model = build_model(config, make_train_env(config["task"], 2, config["env"], 0))
    model.learn(384)
    return model, config


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A tiny trained MaskablePPO and masked QR-DQN, each saved in the new format: {algo: (model, weights path)}."""
    folder = tmp_path_factory.mktemp("ckpt")
    out = {}
    for algo in ("maskable_ppo", "qrdqn"):
        model, config = _tiny_model(algo)
        out[algo] = (model, save_model(model, folder / f"{algo}.zip", config))
    return out


# --------------------------------------------------------------------------------------------- hostile files
def test_eval_refuses_a_hostile_zip_and_runs_none_of_it(tmp_path, capsys):
    marker = tmp_path / "pwned"
    evil = hostile_zip(tmp_path, marker)
    with pytest.raises(CheckpointError, match="unpickling.*--trust-checkpoint"):
        load_model(evil)
    with pytest.raises(CheckpointError, match="unpickling"):
        load_model(tmp_path / "evil")  # the stem finds only the zip: refused too
    assert baselines_main(["eval", str(evil), "--games", "2"]) == 2
    err = capsys.readouterr().err
    assert "--trust-checkpoint" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    # A zip renamed to .safetensors is not parsed as a pickle either.
    renamed = tmp_path / "renamed.safetensors"
    renamed.write_bytes(evil.read_bytes())
    (tmp_path / "renamed.json").write_text((tmp_path / "evil.json").read_text())
    with pytest.raises(CheckpointError, match="renamed.safetensors: not a readable safetensors"):
        load_model(renamed)
    assert not marker.exists()


def test_tttthought_eval_refuses_a_hostile_zip(tmp_path, capsys):
    from tttthought_env.cli import main

    marker = tmp_path / "pwned"
    evil = hostile_zip(tmp_path, marker)
    assert main(["eval", str(evil)]) == 2
    err = capsys.readouterr().err
    assert "refused" in err and "Traceback" not in err
    assert not marker.exists()


def test_play_refuses_a_hostile_zip_and_runs_none_of_it(tmp_path):
    marker = tmp_path / "pwned"
    evil = hostile_zip(tmp_path, marker)
    with pytest.raises(PlayError, match="unpickling.*--trust-checkpoint"):
        AgentPlayer(str(evil))
    with pytest.raises(PlayError, match="unpickling"):
        play(opponent=str(evil), input=io.StringIO("quit\n"), output=io.StringIO())
    assert not marker.exists()


def test_the_hostile_zip_is_really_hostile_and_the_flag_is_explicit(tmp_path):
    """With trust_checkpoint=True SB3's loader unpickles the file: the payload runs (so the tests above test
    something). Nothing but the marker file in tmp_path is touched."""
    marker = tmp_path / "pwned"
    evil = hostile_zip(tmp_path, marker)
    try:
        load_model(evil, trust_checkpoint=True)
    except CheckpointError:
        pass  # SB3 fails after unpickling the payload
    assert marker.exists()


# ---------------------------------------------------------------------------------------- the new format
def test_train_cli_writes_weights_and_config_and_eval_reads_them(tmp_path, capsys):
    save = tmp_path / "run"
    assert baselines_main(["train", "--algo", "maskable_ppo", "--capacity", "tiny", "--timesteps", "256",
                           "--eval-games", "2", "--save", str(save), "--no-progress"]) == 0
    weights, config = checkpoint_paths(save)
    assert weights.exists() and config.exists() and not save.with_suffix(".zip").exists()
    assert "UNSAFE" not in capsys.readouterr().out
    assert baselines_main(["eval", str(weights), "--games", "2", "--out", str(tmp_path / "e.json")]) == 0
    assert json.loads((tmp_path / "e.json").read_text())["final"]["vs_minimax"]["games"] == 2


@pytest.mark.parametrize("algo", ["maskable_ppo", "qrdqn"])
def test_a_checkpoint_round_trips_and_plays_identically(saved, algo):
    from tttthought_env.pettingzoo_env import raw_env

    model, weights = saved[algo]
    loaded, config = load_model(weights)
    assert config["algo"] == algo
    player = AgentPlayer(str(weights))
    assert player.matching_task() == "tttthought/Full-v0"
    before, after = make_scorer(model), make_scorer(loaded)
    env = raw_env(illegal_action="raise", obs_mode="dict")
    env.reset(seed=3)
    rng = np.random.default_rng(0)
    checked = 0
    while checked < 120:
        if env.game.done:
            env.reset(seed=int(rng.integers(1 << 30)))
        agent = env.agent_selection
        obs, mask = env.observe(agent)["observation"], env.action_masks(agent)
        a = before(obs[None], mask[None])[0]
        b = after(obs[None], mask[None])[0]
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
        greedy = int(np.where(mask, a, -np.inf).argmax())
        assert player.act(env, agent) == greedy  # the numpy forward pass of play chooses the same action
        checked += 1
        env.step(greedy if rng.random() < 0.5 else int(rng.choice(np.flatnonzero(mask))))
    outcomes = play(opponent=str(weights), task=None, seed=0, input=io.StringIO("".join(
        f"{c}\n" for c in list(range(9)) * 2)), output=io.StringIO(), human="O")
    assert outcomes[0] in ("win", "draw", "loss")


def test_a_config_that_does_not_fit_the_weights_is_a_clear_error(saved, tmp_path):
    _, weights = saved["maskable_ppo"]
    config = json.loads(weights.with_suffix(".json").read_text())
    copy = tmp_path / "copy.safetensors"
    copy.write_bytes(weights.read_bytes())
    config["hyperparams"]["policy_kwargs"]["net_arch"] = {"pi": [32], "vf": [32]}
    (tmp_path / "copy.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=r"copy.safetensors does not fit its run config .*copy.json: .*shape"):
        load_model(copy)
    config["algo"] = "qrdqn"
    (tmp_path / "copy.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="holds a 'maskable_ppo' policy"):
        load_model(copy)
    (tmp_path / "copy.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="copy.json: not a readable JSON"):
        load_model(copy)
    (tmp_path / "copy.json").unlink()
    with pytest.raises(CheckpointError, match="copy.json .* is missing"):
        load_model(copy)
    with pytest.raises(CheckpointError, match="no checkpoint weights"):
        load_model(tmp_path / "nothing.safetensors")


def test_missing_tensors_are_named_by_eval_and_play(saved, tmp_path, capsys):
    from safetensors.numpy import load_file, save_file
    from safetensors import safe_open

    _, weights = saved["maskable_ppo"]
    with safe_open(str(weights), framework="numpy") as handle:
        meta = handle.metadata()
    tensors = load_file(str(weights))
    tensors.pop("action_net.weight")
    broken = tmp_path / "broken.safetensors"
    save_file(tensors, str(broken), metadata=meta)
    (tmp_path / "broken.json").write_text(weights.with_suffix(".json").read_text())
    with pytest.raises(CheckpointError, match="missing tensor 'action_net.weight'"):
        load_model(broken)
    assert baselines_main(["eval", str(broken), "--games", "2"]) == 2
    err = capsys.readouterr().err
    assert "broken.safetensors" in err and "Traceback" not in err
    with pytest.raises(PlayError, match="broken.safetensors: not a usable agent: missing tensor action_net"):
        AgentPlayer(str(broken))
    tensors = load_file(str(weights))
    tensors["action_net.weight"] = tensors["action_net.weight"][:, :3]
    save_file(tensors, str(broken), metadata=meta)
    with pytest.raises(PlayError, match="not a usable agent: action_net has shapes"):
        AgentPlayer(str(broken))
    with pytest.raises(PlayError, match="no saved agent"):
        AgentPlayer(str(tmp_path / "absent"))


@pytest.mark.parametrize("arch", ["deepsets", "transformer"])
@pytest.mark.filterwarnings("ignore:.*maximum and minimum values are equal")  # the env's budget row
def test_a_token_network_round_trips_and_play_reads_it_through_the_loader(arch, tmp_path):
    """Saving a token network (obs_mode="tokens": no "observation" key) used to raise KeyError; now the weights
    name their arch, load_checkpoint rebuilds the same network, and play acts with it on token observations."""
    from safetensors import safe_open

    from tttthought_env.pettingzoo_env import raw_env

    config = make_run_config("maskable_ppo", "thoughts", capacity="tiny", arch=arch, seed=0)
    config["hyperparams"].update(n_envs=1)
    model = build_model(config, make_train_env(config["task"], 1, config["env"], 0))  # untrained: random weights
    weights = save_model(model, tmp_path / arch, config)
    with safe_open(str(weights), framework="numpy") as handle:
        meta = handle.metadata()
    assert meta["arch"] == arch and meta["obs_size"] == str(19 * 3)  # the (L, 3) token rows of Full-v0
    loaded, loaded_config = load_model(weights)
    assert loaded_config["arch"] == arch
    player = AgentPlayer(str(weights))
    assert player.obs_mode == "tokens" and player.matching_task() == "tttthought/Full-v0"
    before, after = make_scorer(model), make_scorer(loaded)
    env = raw_env(illegal_action="raise", obs_mode="tokens")
    env.reset(seed=1)
    rng = np.random.default_rng(0)
    for _ in range(24):
        if env.game.done:
            env.reset(seed=int(rng.integers(1 << 30)))
        agent = env.agent_selection
        obs, mask = env.observe(agent), env.action_masks(agent)
        scores = after(obs, mask)[0]
        np.testing.assert_allclose(before(obs, mask)[0], scores, rtol=0, atol=1e-6)
        assert player.act(env, agent) == int(np.where(mask, scores, -np.inf).argmax())
        env.step(int(rng.choice(np.flatnonzero(mask))))


def test_weights_and_run_config_must_name_the_same_arch(tmp_path):
    config = make_run_config("maskable_ppo", "thoughts", capacity="tiny", arch="deepsets", seed=0)
    model = build_model(config, make_train_env(config["task"], 1, config["env"], 0))
    weights = save_model(model, tmp_path / "ds", config)
    for arch, why in (("mlp", r"ds.safetensors holds a 'deepsets' policy, its run config .*ds.json says 'mlp'"),
                      ("bogus", r"ds.json: unknown arch 'bogus'")):
        (tmp_path / "ds.json").write_text(json.dumps({**config, "arch": arch}))
        with pytest.raises(CheckpointError, match=why):
            load_model(weights)
        with pytest.raises(PlayError, match=why):  # play reads the run config only through the loader
            AgentPlayer(str(weights))


def test_atomic_writes_make_ordinary_files_and_leave_no_temp_behind(tmp_path):
    from baselines.checkpoints import atomic_write_bytes

    umask = os.umask(0o022)
    try:
        path = atomic_write_bytes(tmp_path / "records" / "seed0.json", b"{}")
    finally:
        os.umask(umask)
    # mkstemp makes private (0600) files; a record or checkpoint is for sharing, like any new file.
    assert path.read_bytes() == b"{}" and (path.stat().st_mode & 0o777) == 0o644
    with pytest.raises(TypeError):
        atomic_write_bytes(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"{}" and sorted(p.name for p in path.parent.iterdir()) == ["seed0.json"]


def test_a_forced_agent_plays_by_its_min_thoughts_and_a_bad_value_is_named(saved, tmp_path):
    """The forced condition's rule is not part of any registered id: play takes it from the checkpoint."""
    import io

    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    model, weights = saved["maskable_ppo"]
    with safe_open(str(weights), framework="numpy") as handle:
        meta = dict(handle.metadata())
    assert meta["min_thoughts"] == "0"  # save_model writes the run's rule (thoughts: none forced)
    assert AgentPlayer(str(weights)).min_thoughts == 0
    forced = tmp_path / "forced.safetensors"
    save_file(load_file(str(weights)), str(forced), metadata={**meta, "min_thoughts": "1"})
    out = io.StringIO()
    # The human (O) quits at once; the agent's first turn already had to think before it could move.
    play(opponent=str(forced), human="O", seed=0, input=io.StringIO("board\nquit\n"), output=out)
    text = out.getvalue()
    assert "each player thinks at least 1 time(s) before a move" in text
    assert "agent (X) moves" in text
    assert "agent (X) thinks:" in text.split("agent (X) moves")[0]  # forced: a thought came before the move
    save_file(load_file(str(weights)), str(forced), metadata={**meta, "min_thoughts": "lots"})
    with pytest.raises(PlayError, match="min_thoughts"):
        play(opponent=str(forced), human="O", seed=0, input=io.StringIO("quit\n"), output=io.StringIO())
