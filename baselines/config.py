"""What a run is: the experimental conditions, the algorithms, and the hyperparameters read from YAML.

A *run config* is a plain JSON-able dict; ``make_run_config`` builds one and ``baselines.train.train``
turns it into a record. Hyperparameters live only in ``baselines/hyperparams/<algo>.yml``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

HYPERPARAMS_DIR = Path(__file__).resolve().parent / "hyperparams"
PROBE_FILE = HYPERPARAMS_DIR / "probe.yml"

#: The headline conditions: which registered id, which env settings on top of its registered ones, the view
#: (``full``, or ``last_move`` for the twins, where only the store can remember the board) and, for
#: ``pretrained``, a behaviour-cloned start (:mod:`baselines.pretrain`). Every grid run plays both sides
#: (agent_player="random") against the training opponents of the YAML (docs/benchmark.md).
#: The full view keeps the first grid's five conditions and adds ``pretrained``; the twin
#: (``lastmove_*``) has all of them, plus the world rewards and forced thinking.
CONDITIONS: dict[str, dict[str, Any]] = {
    "plain": {"task": "tttthought/Plain-v0", "env": {}},
    "thoughts": {"task": "tttthought/Full-v0", "env": {}},
    "oracle": {"task": "tttthought/Full-v0", "env": {"shaping": "oracle"}},
    "potential": {"task": "tttthought/Full-v0", "env": {"shaping": "potential"}},
    "prediction": {"task": "tttthought/Full-v0", "env": {"shaping": "prediction"}},
    "pretrained": {"task": "tttthought/Full-v0", "env": {}, "pretrain": True},
    "lastmove_plain": {"task": "tttthought/LastMove-Plain-v0", "env": {}},
    "lastmove_thoughts": {"task": "tttthought/LastMove-Full-v0", "env": {}},
    "lastmove_world": {"task": "tttthought/LastMove-Full-v0", "env": {"shaping": "world"}},
    "lastmove_world_potential": {"task": "tttthought/LastMove-Full-v0", "env": {"shaping": "world_potential"}},
    "lastmove_oracle": {"task": "tttthought/LastMove-Full-v0", "env": {"shaping": "oracle"}},
    "lastmove_potential": {"task": "tttthought/LastMove-Full-v0", "env": {"shaping": "potential"}},
    "lastmove_prediction": {"task": "tttthought/LastMove-Full-v0", "env": {"shaping": "prediction"}},
    "lastmove_pretrained": {"task": "tttthought/LastMove-Full-v0", "env": {}, "pretrain": True},
    "lastmove_forced": {"task": "tttthought/LastMove-Full-v0", "env": {"min_thoughts": 1}},
}
#: Conditions by view (a twin's condition is named ``lastmove_<full-view name>``).
VIEW_PREFIX = "lastmove_"


def condition_view(condition: str) -> str:
    """``"last_move"`` for a twin's condition, else ``"full"``."""
    return "last_move" if condition.startswith(VIEW_PREFIX) else "full"


def base_condition(condition: str) -> str:
    """The condition's name within its view: ``lastmove_plain -> plain``."""
    return condition[len(VIEW_PREFIX):] if condition.startswith(VIEW_PREFIX) else condition


#: Which (condition, algo) pairs a grid cannot run, and why (docs/benchmark.md says the same).
NOT_APPLICABLE: dict[tuple[str, str], str] = {
    (name, algo): ("behaviour cloning fits a policy distribution; QR-DQN has none (cloning into Q-values "
                   "needs a margin loss and a demonstration buffer, DQfD: a different method)")
    for name in ("pretrained", "lastmove_pretrained") for algo in ("qrdqn", "qrdqn_unmasked")
}
#: Settings every condition shares (the side is drawn per game, so evaluation covers both sides).
COMMON_ENV: dict[str, Any] = {"agent_player": "random"}

#: ``algo name -> (hyperparameter file, extra YAML section merged last)``.
#: ``qrdqn`` is the masked QR-DQN; ``qrdqn_unmasked`` is plain QR-DQN on flat observations with
#: ``illegal_action="lose"``, the comparison the issue asks for.
ALGOS: dict[str, tuple[str, str | None]] = {
    "maskable_ppo": ("maskable_ppo.yml", None),
    "qrdqn": ("qrdqn.yml", None),
    "qrdqn_unmasked": ("qrdqn.yml", "unmasked"),
}
CAPACITIES: tuple[str, ...] = ("tiny", "default")
#: The network architectures (baselines/policies.py): ``mlp`` reads the flat vector, the others the tokens.
ARCHS: tuple[str, ...] = ("mlp", "deepsets", "transformer")
#: The capacity probe's modes (baselines/probe.py): one pass, and two passes through thoughts.
PROBE_MODES: tuple[str, ...] = ("one_pass", "two_pass")

#: Keys of a hyperparameter section that the training script consumes itself (not passed to the algorithm).
RUN_KEYS: tuple[str, ...] = ("n_envs", "total_timesteps", "eval_every", "curve_games", "masked", "opponent_mix",
                              "pretrain")

#: Seeds per cell in the protocol of docs/benchmark.md (0..9): the grid's default and the report's yardstick.
PROTOCOL_SEEDS = 10

#: The evaluation protocol of docs/benchmark.md.
EVAL_PROTOCOL: dict[str, Any] = {
    "games": 1000,  # per opponent, half as X and half as O unless the config fixes the side
    "opponents": ["random", "minimax", "training"],
    "threshold": 0.99,  # draw-or-better rate against minimax for "steps/seconds to 99%"
}


def deep_merge(base: dict, override: dict) -> dict:
    """A new dict: ``override`` on top of ``base``, merging nested dicts key by key."""
    out = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_hyperparams(algo: str, capacity: str = "default", condition: str | None = None,
                     hyperparams_dir: str | Path | None = None) -> dict[str, Any]:
    """The merged hyperparameters of ``algo`` for one capacity and condition (see the YAML headers)."""
    if algo not in ALGOS:
        raise ValueError(f"algo must be one of {tuple(ALGOS)}, got {algo!r}")
    filename, extra = ALGOS[algo]
    path = Path(hyperparams_dir or HYPERPARAMS_DIR) / filename
    with open(path) as handle:
        spec = yaml.safe_load(handle) or {}
    capacities = spec.get("capacity", {})
    if capacity not in capacities:
        raise ValueError(f"capacity must be one of {tuple(capacities)} (from {path}), got {capacity!r}")
    params = deep_merge(spec.get("default", {}), capacities[capacity])
    params = deep_merge(params, (spec.get("conditions") or {}).get(condition, {}) if condition else {})
    if extra is not None:
        params = deep_merge(params, spec.get(extra, {}))
    return params


def parse_env_overrides(pairs: list[str] | None) -> dict[str, Any]:
    """``["shaping=oracle", "max_thoughts=2"]`` -> ``{"shaping": "oracle", "max_thoughts": 2}`` (values as YAML)."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise ValueError(f"env settings must look like key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        parsed = yaml.safe_load(value) if value not in ("", "None", "none") else None
        if isinstance(parsed, list):
            parsed = tuple(parsed)  # channels=[propose,negate]
        out[key.strip()] = parsed
    return out


def _task_and_env(condition: str | None, task: str | None,
                  env: dict[str, Any] | None) -> tuple[str, str, dict[str, Any]]:
    """``(condition, task, env settings)``: a headline condition's, with ``env`` on top, or ``"custom"``."""
    if condition is None:
        if task is None:
            raise ValueError("give a condition or a task id")
        return "custom", task, dict(env or {})
    if condition not in CONDITIONS:
        raise ValueError(f"condition must be one of {tuple(CONDITIONS)}, got {condition!r}")
    spec = CONDITIONS[condition]
    return condition, task or spec["task"], {**COMMON_ENV, **spec["env"], **(env or {})}


def _set_observation(algo: str, params: dict[str, Any], env_settings: dict[str, Any], arch: str = "mlp") -> None:
    """The observation an algorithm and architecture read: a token network reads ``obs_mode="tokens"``; for the
    MLP, masked QR-DQN reads the mask from a dict observation and plain QR-DQN sees the flat vector and forfeits
    on an illegal action."""
    if arch != "mlp":
        from baselines.policies import obs_mode_for

        env_settings["obs_mode"] = obs_mode_for(arch, algo)
        return
    if not algo.startswith("qrdqn"):
        return
    masked = algo != "qrdqn_unmasked" and params.get("masked", True)
    env_settings["obs_mode"] = "dict" if masked else "flat"
    if not masked:
        env_settings["illegal_action"] = "lose"


def make_run_config(
    algo: str,
    condition: str | None = None,
    *,
    task: str | None = None,
    env: dict[str, Any] | None = None,
    capacity: str = "default",
    arch: str = "mlp",
    seed: int = 0,
    total_timesteps: int | None = None,
    hyperparams: dict[str, Any] | None = None,
    eval_games: int | None = None,
    device: str = "cpu",
    threads: int = 1,
    vec: str = "auto",
    tensorboard: str | None = None,
    save_path: str | None = None,
    progress_bar: bool = False,
) -> dict[str, Any]:
    """Everything one run needs, as a JSON-able dict.

    Either a ``condition`` from :data:`CONDITIONS` or a ``task`` (any registered id) plus ``env`` settings;
    ``env`` is applied on top of the condition's settings. ``hyperparams`` overrides the YAML (for tests).
    The YAML's ``opponent_mix`` (the training opponents, :mod:`baselines.opponent_mix`) applies unless ``env``
    names an ``opponent`` or ``opponent_epsilon``: then the run trains against that one opponent.
    """
    condition, task, env_settings = _task_and_env(condition, task, env)
    params = load_hyperparams(algo, capacity, condition)
    params = deep_merge(params, hyperparams or {})
    if total_timesteps is not None:
        params["total_timesteps"] = int(total_timesteps)
    if arch not in ARCHS:
        raise ValueError(f"arch must be one of {ARCHS}, got {arch!r}")
    _set_observation(algo, params, env_settings, arch)
    if {"opponent", "opponent_epsilon"} & set(env or {}) and "opponent_mix" not in (hyperparams or {}):
        params.pop("opponent_mix", None)  # an opponent asked for explicitly wins over the YAML's training mix
    protocol = dict(EVAL_PROTOCOL)
    if eval_games is not None:
        protocol["games"] = int(eval_games)
    return {
        "algo": algo,
        "condition": condition,
        "capacity": capacity,
        "arch": arch,  # the network (baselines/policies.py; sizes in hyperparams/archs.yml), at the capacity
        "seed": int(seed),
        "task": task,
        "env": env_settings,
        "hyperparams": params,
        # Behaviour cloning before RL (baselines.pretrain), with the YAML's ``pretrain`` settings.
        "pretrain": bool(CONDITIONS.get(condition, {}).get("pretrain", False)),
        "eval": protocol,
        "device": device,
        "threads": int(threads),
        "vec": vec,
        "tensorboard": tensorboard,
        "save_path": save_path,
        "progress_bar": bool(progress_bar),
    }
