"""The token architectures (baselines/policies.py): matched in size to today's MLPs, trainable by both
algorithms, blind to the action mask and the padding, and invariant to the order of the rows."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
import torch as th

from baselines.masked_qrdqn import MaskedQRDQN
from baselines.policies import (
    ARCHS,
    SIZES,
    DeepSetsExtractor,
    TransformerExtractor,
    count_parameters,
    obs_mode_for,
    policy_kwargs_for,
    policy_name_for,
)
from tttthought_env.config import Config
from tttthought_env.core import Game
from tttthought_env.layout import layout_for
from tttthought_env.registration import TASKS
from tttthought_env.vector import SB3VecEnv, ThoughtVectorEnv

FULL = TASKS["tttthought/Full-v0"]
#: Parameters measured on tttthought/Full-v0 (obs 40, actions 38; QR-DQN with 25 quantiles): the whole
#: MaskablePPO policy, QR-DQN's online quantile net. Pinned so that the report's numbers stay true.
MEASURED = {
    ("maskable_ppo", "tiny"): {"mlp": 1975, "deepsets": 1751, "transformer": 1799},
    ("maskable_ppo", "default"): {"mlp": 16103, "deepsets": 18023, "transformer": 16223},
    ("qrdqn", "tiny"): {"mlp": 16806, "deepsets": 16966, "transformer": 17142},
    ("qrdqn", "default"): {"mlp": 68534, "deepsets": 73078, "transformer": 73838},
}


def _model(algo: str, arch: str, size: str):
    th.manual_seed(0)
    env = SB3VecEnv(ThoughtVectorEnv(4, opponent="random", obs_mode=obs_mode_for(arch, algo), **FULL))
    env.seed(0)
    kwargs = policy_kwargs_for(arch, size, algo)
    if algo == "qrdqn":
        return MaskedQRDQN(policy_name_for(arch, algo), env, policy_kwargs={**kwargs, "n_quantiles": 25},
                           buffer_size=512, learning_starts=64, batch_size=32, seed=0)
    from sb3_contrib import MaskablePPO

    return MaskablePPO(policy_name_for(arch, algo), env, policy_kwargs=kwargs, n_steps=64, batch_size=64,
                       n_epochs=1, seed=0)


@cache
def _mlp_count(algo: str, size: str) -> int:
    return count_parameters(_model(algo, "mlp", size))


@pytest.mark.parametrize("algo", ["maskable_ppo", "qrdqn"])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("arch", ARCHS)
def test_each_arch_matches_the_mlp_in_size_and_learns(algo, size, arch):
    model = _model(algo, arch, size)
    count, mlp = count_parameters(model), _mlp_count(algo, size)
    assert mlp == MEASURED[(algo, size)]["mlp"]  # today's MLP, built as the YAML capacities build it
    assert count == MEASURED[(algo, size)][arch]
    assert 0.75 * mlp <= count <= 1.25 * mlp, f"{arch} {size} {algo}: {count} parameters vs the MLP's {mlp}"
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(256)
    assert model.num_timesteps >= 256
    changed = [not th.equal(a, b.detach()) for a, b in zip(before, model.policy.parameters())]
    assert any(changed), "no parameter moved in learn(256)"
    if arch != "mlp":  # the extractor is trained, not just the heads
        extractor = getattr(model.policy, "quantile_net", model.policy).features_extractor
        assert isinstance(extractor, (DeepSetsExtractor, TransformerExtractor))


def _observation() -> tuple[dict[str, th.Tensor], int, int]:
    """A token observation with store entries (O to move after thinking twice), as a batch of one, with the
    board size and the number of store entries."""
    layout = layout_for(Config(**FULL))
    game = Game(layout)
    game.move(4)
    game.move(0)
    game.move(8)
    for channel, arg in (("propose", 2), ("negate", 6), ("marker", 1)):
        game.think(layout.encode_action(channel, arg))
    obs = game.observe(game.to_move, "tokens", game.legal_mask())
    return {key: th.as_tensor(value).unsqueeze(0).float() for key, value in obs.items()}, layout.n_cells, 3


def _extractors():
    layout = layout_for(Config(**FULL))
    space = layout.observation_space("tokens")
    th.manual_seed(0)
    yield DeepSetsExtractor(space, embed_dim=8, hidden=(16, 16), pooling="sum")
    yield DeepSetsExtractor(space, embed_dim=8, hidden=(16,), pooling="mean")
    yield TransformerExtractor(space, embed_dim=8, n_layers=2, n_heads=2, ff_dim=16).eval()


@pytest.mark.parametrize("extractor", list(_extractors()), ids=["deepsets-sum", "deepsets-mean", "transformer"])
def test_features_are_row_order_invariant_and_blind_to_padding_and_mask(extractor):
    obs, n, entries = _observation()
    with th.no_grad():
        base = extractor(obs)
        # Any permutation of the rows (cells, store entries with their ages, padding, budget): the same set.
        perm = th.randperm(obs["tokens"].shape[1], generator=th.Generator().manual_seed(1))
        permuted = {**obs, "tokens": obs["tokens"][:, perm], "token_mask": obs["token_mask"][:, perm]}
        th.testing.assert_close(extractor(permuted), base, atol=1e-5, rtol=1e-5)
        # The padding rows are masked out, whatever they hold.
        padded = obs["tokens"].clone()
        padded[:, n + entries:-1] = th.tensor([6.0, 1.0, 2.0])
        th.testing.assert_close(extractor({**obs, "tokens": padded}), base)
        # The action mask is not an input.
        th.testing.assert_close(extractor({**obs, "action_mask": th.zeros_like(obs["action_mask"])}), base)
        # But the content is: swapping the ages of two store entries (which entry is newer) changes the features.
        swapped = obs["tokens"].clone()
        swapped[:, [n, n + 1], 2] = swapped[:, [n + 1, n], 2]
        assert not th.allclose(extractor({**obs, "tokens": swapped}), base, atol=1e-6)


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="arch must be one of"):
        policy_kwargs_for("cnn", "tiny", "maskable_ppo")
    with pytest.raises(ValueError, match="size must be one of"):
        policy_kwargs_for("mlp", "huge", "maskable_ppo")
    with pytest.raises(ValueError, match="algo must be one of"):
        policy_kwargs_for("mlp", "tiny", "ppo")
    with pytest.raises(ValueError, match="qrdqn_unmasked"):
        policy_kwargs_for("deepsets", "tiny", "qrdqn_unmasked")
    layout = layout_for(Config(**FULL))
    with pytest.raises(ValueError, match="obs_mode='tokens'"):
        DeepSetsExtractor(layout.observation_space("dict"))
    with pytest.raises(ValueError, match="pooling must be one of"):
        DeepSetsExtractor(layout.observation_space("tokens"), pooling="max")
    with pytest.raises(ValueError, match="multiple of n_heads"):
        TransformerExtractor(layout.observation_space("tokens"), embed_dim=10, n_heads=4)


def test_the_kwargs_and_obs_modes_per_algorithm():
    assert policy_kwargs_for("mlp", "default", "maskable_ppo") == {"net_arch": {"pi": [64, 64], "vf": [64, 64]}}
    assert policy_kwargs_for("mlp", "tiny", "qrdqn") == {"net_arch": [16]}
    kwargs = policy_kwargs_for("transformer", "tiny", "qrdqn")
    assert kwargs["features_extractor_class"] is TransformerExtractor and kwargs["net_arch"] == [16]
    assert [obs_mode_for("mlp", a) for a in ("maskable_ppo", "qrdqn", "qrdqn_unmasked")] == ["flat", "dict", "flat"]
    assert obs_mode_for("deepsets", "maskable_ppo") == "tokens"
    assert policy_name_for("deepsets", "maskable_ppo") == "MultiInputPolicy"
    assert policy_name_for("mlp", "maskable_ppo") == "MlpPolicy"
    assert count_parameters(th.nn.Linear(3, 2)) == 8
