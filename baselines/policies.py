"""Network architectures for the baselines: today's MLP and two set networks over token observations.

``obs_mode="tokens"`` (docs/spec.md, "Token observations") gives a position as rows ``(type, value, position)``
with a token mask. The two SB3 features extractors here read it:

* :class:`DeepSetsExtractor`: each row embedded (one ``nn.Embedding`` per field, summed), a per-token MLP, then a
  masked sum (or mean) over the rows: the seed's "Sym NN". The policy's ``net_arch`` is the MLP after the pool.
* :class:`TransformerExtractor`: the same embeddings, a CLS token, ``n_layers`` pre-norm encoder layers with the
  padding rows masked out of attention, and the CLS row (after a final LayerNorm) as the features.

Neither has a row-index embedding: the "position" of a token is its own third field (the cell, or a store
entry's age), so both are invariant to the order of the rows (tests/baselines/test_policies.py checks it). Both ignore
``"action_mask"`` as an input; the algorithms read it to mask actions.

:func:`policy_kwargs_for` gives the SB3 ``policy_kwargs`` of an architecture, size and algorithm; the sizes of
:data:`ARCH_SIZES` are chosen so that each size's policy has within ±25% of the parameters of today's MLP of
that size on ``tttthought/Full-v0`` (measured in tests/baselines/test_policies.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch as th
import yaml
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from baselines.config import ARCHS as CONFIG_ARCHS
from baselines.config import CAPACITIES

#: The architectures :func:`policy_kwargs_for` knows; ``mlp`` reads the flat vector, the others the tokens.
ARCHS: tuple[str, ...] = CONFIG_ARCHS
SIZES: tuple[str, ...] = CAPACITIES
#: The algorithm names of :data:`baselines.config.ALGOS` that can use each architecture (plain QR-DQN reads the
#: flat vector only, so it has only ``mlp``).
ALGOS: tuple[str, ...] = ("maskable_ppo", "qrdqn", "qrdqn_unmasked")
TOKEN_KEYS: tuple[str, ...] = ("tokens", "token_mask")
POOLINGS: tuple[str, ...] = ("sum", "mean")

#: Per architecture and size: ``hidden`` (the net_arch width after the features: one layer per head, or the
#: MLP's layers) and the extractor's keyword arguments, read from baselines/hyperparams/archs.yml (the token
#: sizes were set by measuring the counts, tests/baselines/test_policies.py).
ARCHS_YAML = Path(__file__).resolve().parent / "hyperparams" / "archs.yml"


def _load_arch_sizes(path: Path = ARCHS_YAML) -> dict[str, dict[str, dict[str, Any]]]:
    with open(path) as handle:
        sizes = yaml.safe_load(handle)
    if not isinstance(sizes, dict) or set(sizes) != set(ARCHS) or any(set(v) != set(SIZES) for v in sizes.values()):
        raise ValueError(f"{path} must give every architecture {ARCHS} at every size {SIZES}")
    return sizes


ARCH_SIZES: dict[str, dict[str, dict[str, Any]]] = _load_arch_sizes()


def _check_token_space(observation_space: gymnasium.Space) -> np.ndarray:
    """The ``(L, 3)`` upper bounds of a token observation space, or a ValueError saying what the space lacks."""
    spaces_ = getattr(observation_space, "spaces", None)
    if not isinstance(spaces_, dict) or any(key not in spaces_ for key in TOKEN_KEYS):
        raise ValueError(f"observation_space must be the Dict of obs_mode='tokens' with keys {TOKEN_KEYS}, "
                         f"got {observation_space!r}")
    high = np.asarray(spaces_["tokens"].high)
    if high.ndim != 2 or high.shape[1] != 3:
        raise ValueError(f"observation_space['tokens'] must have shape (L, 3), got {high.shape}")
    return high


def _check_positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return int(value)


class TokenEmbedding(nn.Module):
    """Embeds each ``(type, value, position)`` row as the sum of three learned embeddings.

    The table sizes come from the space's upper bounds (``Layout.token_high``), so any config fits; padding
    rows embed like any row and are masked by the networks that pool or attend over them.
    """

    def __init__(self, high: np.ndarray, embed_dim: int) -> None:
        super().__init__()
        sizes = [int(size) + 1 for size in high.max(axis=0)]
        self.type_embed, self.value_embed, self.position_embed = (nn.Embedding(size, embed_dim) for size in sizes)
        for table in (self.type_embed, self.value_embed, self.position_embed):
            # N(0, 1/3) per table, so the sum of the three starts at unit variance.
            nn.init.normal_(table.weight, std=3 ** -0.5)

    def forward(self, observations: dict[str, th.Tensor]) -> tuple[th.Tensor, th.Tensor]:
        """``(embedded rows (B, L, embed_dim), bool mask (B, L) of the real rows)``."""
        # SB3 hands every Box entry over as float; the fields are small exact integers.
        tokens = observations["tokens"].long()
        embedded = self.type_embed(tokens[..., 0]) + self.value_embed(tokens[..., 1]) \
            + self.position_embed(tokens[..., 2])
        return embedded, observations["token_mask"] > 0.5


class DeepSetsExtractor(BaseFeaturesExtractor):
    """Features of a token observation: embed each row, apply a per-token MLP (``hidden``, ReLU after each layer),
    then pool the real rows by ``pooling`` (``"sum"``, which keeps counts, or ``"mean"``); ``features_dim`` is
    ``hidden[-1]``. The output is invariant to any permutation of the rows."""

    def __init__(self, observation_space: gymnasium.spaces.Dict, embed_dim: int = 16,
                 hidden: tuple[int, ...] = (32,), pooling: str = "sum") -> None:
        high = _check_token_space(observation_space)
        embed_dim = _check_positive("embed_dim", embed_dim)
        hidden = tuple(_check_positive("hidden", width) for width in hidden)
        if not hidden:
            raise ValueError("hidden must name at least one layer width, got ()")
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        super().__init__(observation_space, features_dim=hidden[-1])
        self.embedding = TokenEmbedding(high, embed_dim)
        layers: list[nn.Module] = []
        for width_in, width_out in zip((embed_dim, *hidden[:-1]), hidden):
            layers += [nn.Linear(width_in, width_out), nn.ReLU()]
        self.phi = nn.Sequential(*layers)
        self.pooling = pooling

    def forward(self, observations: dict[str, th.Tensor]) -> th.Tensor:
        embedded, mask = self.embedding(observations)
        weights = mask.unsqueeze(-1).to(embedded.dtype)
        pooled = (self.phi(embedded) * weights).sum(dim=1)
        if self.pooling == "mean":
            pooled = pooled / weights.sum(dim=1).clamp(min=1.0)
        return pooled


class TransformerExtractor(BaseFeaturesExtractor):
    """Features of a token observation: the embedded rows after a learned CLS row, ``n_layers`` pre-norm
    ``nn.TransformerEncoderLayer`` (``norm_first=True``, no dropout: RL targets are noisy enough) with the
    padding rows masked from attention, and the CLS row after a final LayerNorm (``features_dim = embed_dim``).

    No embedding of the row index is added (the position field is embedded instead), so the output is
    invariant to the order of the rows."""

    def __init__(self, observation_space: gymnasium.spaces.Dict, embed_dim: int = 24, n_layers: int = 2,
                 n_heads: int = 4, ff_dim: int = 48) -> None:
        high = _check_token_space(observation_space)
        embed_dim, n_layers = _check_positive("embed_dim", embed_dim), _check_positive("n_layers", n_layers)
        n_heads, ff_dim = _check_positive("n_heads", n_heads), _check_positive("ff_dim", ff_dim)
        if embed_dim % n_heads:
            raise ValueError(f"embed_dim must be a multiple of n_heads={n_heads}, got embed_dim={embed_dim}")
        super().__init__(observation_space, features_dim=embed_dim)
        self.embedding = TokenEmbedding(high, embed_dim)
        self.cls = nn.Parameter(th.randn(1, 1, embed_dim) * 0.02)
        layer = nn.TransformerEncoderLayer(embed_dim, n_heads, ff_dim, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
        # enable_nested_tensor=False: the nested fast path warns for norm_first and buys nothing at L = 19.
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, observations: dict[str, th.Tensor]) -> th.Tensor:
        embedded, mask = self.embedding(observations)
        batch = embedded.shape[0]
        rows = th.cat([self.cls.expand(batch, -1, -1), embedded], dim=1)
        # The CLS row is never padding, so no row attends over an empty set.
        padding = th.cat([th.zeros(batch, 1, dtype=th.bool, device=mask.device), ~mask], dim=1)
        return self.norm(self.encoder(rows, src_key_padding_mask=padding)[:, 0])


EXTRACTORS: dict[str, type[BaseFeaturesExtractor]] = {"deepsets": DeepSetsExtractor,
                                                      "transformer": TransformerExtractor}


def _check_arch(arch: str, size: str, algo: str) -> None:
    if arch not in ARCHS:
        raise ValueError(f"arch must be one of {ARCHS}, got {arch!r}")
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, got {size!r}")
    if algo not in ALGOS:
        raise ValueError(f"algo must be one of {ALGOS}, got {algo!r}")
    if algo == "qrdqn_unmasked" and arch != "mlp":
        raise ValueError(f"arch must be 'mlp' for algo='qrdqn_unmasked' (it reads the flat vector), got {arch!r}")


def obs_mode_for(arch: str, algo: str) -> str:
    """The env's ``obs_mode`` an architecture needs under an algorithm: ``"tokens"`` for the set networks;
    for ``mlp`` the vector (``"flat"``) or, for masked QR-DQN, the vector and the mask (``"dict"``)."""
    _check_arch(arch, "tiny", algo)
    if arch != "mlp":
        return "tokens"
    return "dict" if algo == "qrdqn" else "flat"


def policy_name_for(arch: str, algo: str) -> str:
    """The SB3 policy name: ``"MultiInputPolicy"`` for dict observations, ``"MlpPolicy"`` for the flat vector."""
    return "MlpPolicy" if obs_mode_for(arch, algo) == "flat" else "MultiInputPolicy"


def policy_kwargs_for(arch: str, size: str, algo: str) -> dict[str, Any]:
    """SB3 ``policy_kwargs`` of ``arch`` (:data:`ARCHS`) at ``size`` (:data:`SIZES`) for ``algo``
    (``"maskable_ppo"``, ``"qrdqn"``, ``"qrdqn_unmasked"``).

    ``mlp`` gives exactly the YAML capacities (``net_arch`` only; the algorithm's default extractor). The token
    architectures add ``features_extractor_class``/``features_extractor_kwargs``; MaskablePPO shares the one
    extractor between the policy and value heads (SB3's default) and each head has the ``hidden`` layers of
    :data:`ARCH_SIZES`; QR-DQN's quantile net is the extractor, the ``hidden`` layers, the quantile outputs.
    Merge ``n_quantiles`` and the like on top yourself.
    """
    _check_arch(arch, size, algo)
    spec = ARCH_SIZES[arch][size]
    hidden = list(spec["hidden"])
    kwargs: dict[str, Any] = {"net_arch": {"pi": hidden, "vf": list(hidden)} if algo == "maskable_ppo" else hidden}
    if arch != "mlp":
        kwargs["features_extractor_class"] = EXTRACTORS[arch]
        kwargs["features_extractor_kwargs"] = dict(spec["extractor"])
    return kwargs


def count_parameters(module: nn.Module | Any) -> int:
    """Trainable parameters of a torch module, or of an SB3 model's network that acts: the whole policy of
    MaskablePPO (extractor, both heads; a shared extractor counted once), the online quantile net of QR-DQN
    (its target copy is not a capacity)."""
    if not isinstance(module, nn.Module):
        policy = getattr(module, "policy", None)
        if policy is None:
            raise ValueError(f"module must be a torch nn.Module or an SB3 model with .policy, got {module!r}")
        module = getattr(policy, "quantile_net", policy)
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
