"""The ``pretrained`` condition's behaviour cloning: demonstrations of the scripted thinkers, cloned into MaskablePPO."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sb3_contrib")

from baselines.config import make_run_config  # noqa: E402
from baselines.envs import make_train_env  # noqa: E402
from baselines.pretrain import behaviour_clone, demonstrations, pretrain  # noqa: E402
from baselines.train import build_model  # noqa: E402

TWIN = "tttthought/LastMove-Propose-v0"


def test_demonstrations_are_legal_teacher_actions_that_take_notes():
    data = demonstrations(TWIN, {"agent_player": "random"}, games=20, seed=0)
    obs, masks, actions = data["observations"], data["masks"], data["actions"]
    assert obs.shape[0] == masks.shape[0] == actions.shape[0] > 20 * 3
    assert masks[np.arange(len(actions)), actions].all()  # every action was legal where it was taken
    notes = actions >= 9
    assert 0.3 < notes.mean() < 0.6  # about one note per opponent move, one move per turn


def test_cloning_makes_the_policy_follow_the_teacher():
    config = make_run_config("maskable_ppo", "thoughts", task=TWIN, capacity="tiny", seed=0)
    model = build_model(config, make_train_env(TWIN, 2, config["env"], 0))
    data = demonstrations(TWIN, config["env"], games=30, seed=0)
    untrained = behaviour_clone(model, data, epochs=0, batch_size=64, learning_rate=0.01, seed=0)
    cloned = behaviour_clone(model, data, epochs=40, batch_size=64, learning_rate=0.01, seed=0)
    assert untrained["agreement"] < 0.5 < 0.85 < cloned["agreement"]
    assert cloned["nll"] < untrained["nll"]


def test_pretrain_refuses_what_it_cannot_do():
    config = make_run_config("qrdqn", "thoughts", task=TWIN, capacity="tiny", seed=0)
    model = build_model(config, make_train_env(TWIN, 2, config["env"], 0))
    settings = {"games": 2, "epochs": 1, "batch_size": 8, "learning_rate": 0.01}
    with pytest.raises(ValueError, match="needs a MaskablePPO policy, got"):
        pretrain(model, TWIN, config["env"], settings, 0)
    with pytest.raises(ValueError, match="must have exactly the keys"):
        pretrain(model, TWIN, config["env"], {"game": 2}, 0)
    with pytest.raises(ValueError, match="games must be an int >= 1, got 0"):
        demonstrations(TWIN, {}, games=0, seed=0)


@pytest.mark.parametrize("arch", ["deepsets", "transformer"])
def test_a_token_network_clones_the_teacher_from_its_own_token_view(arch):
    # The architecture grid runs `pretrained` with token networks: the teacher reads the flat observation of the
    # learner's seat, the learner is fed (and cloned on) its token observations of the same positions.
    config = make_run_config("maskable_ppo", "lastmove_pretrained", arch=arch, capacity="tiny", seed=0)
    task, env_config = config["task"], config["env"]
    assert env_config["obs_mode"] == "tokens"
    flat = demonstrations(task, {**env_config, "obs_mode": "flat"}, games=10, seed=3)
    tokens = demonstrations(task, env_config, games=10, seed=3)
    assert set(tokens["observations"]) == {"tokens", "token_mask", "action_mask"}
    assert np.array_equal(tokens["actions"], flat["actions"]) and np.array_equal(tokens["masks"], flat["masks"])
    assert tokens["observations"]["tokens"].shape[0] == len(tokens["actions"])
    model = build_model(config, make_train_env(task, 2, env_config, 0))
    untrained = behaviour_clone(model, tokens, epochs=0, batch_size=64, learning_rate=0.01, seed=0)
    cloned = behaviour_clone(model, tokens, epochs=30, batch_size=64, learning_rate=0.01, seed=0)
    assert cloned["nll"] < untrained["nll"] and cloned["agreement"] > untrained["agreement"]
