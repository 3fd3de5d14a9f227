"""Checkpoints that never unpickle: the policy's weights as safetensors plus the JSON run config beside them.

``train --save runs/x.zip`` (or ``runs/x``) writes ``runs/x.safetensors`` (the policy's state dict, and a
little metadata) and ``runs/x.json`` (the run config). :func:`load_checkpoint` rebuilds the policy from the
run config (algorithm, network size, env settings) and loads the weights into it; nothing in either file is
executed. SB3's own ``.zip`` files can only be read by unpickling, which runs any code planted in them, so
they are refused unless the caller passes ``trust_checkpoint=True`` (``--trust-checkpoint``).

``tttthought_env.play.AgentPlayer`` reads an MLP's ``.safetensors`` on its own (numpy forward pass, no torch);
a token network's (metadata ``arch`` ``deepsets`` or ``transformer``) it loads through :func:`load_checkpoint`.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

from tttthought_env.replay.output import atomic_output

#: The ``format`` entry of the safetensors metadata of a checkpoint, and its version.
FORMAT = "tttthought-policy"
FORMAT_VERSION = "1"
WEIGHTS_SUFFIX = ".safetensors"
#: Run-config keys that name outputs of the training run; they are ignored when a policy is rebuilt.
OUTPUT_KEYS = ("tensorboard", "save_path", "checkpoint_every", "progress_bar", "save_sb3_zip")


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded safely, said in one line naming the file."""


def checkpoint_paths(path: str | Path) -> tuple[Path, Path]:
    """``(weights, run config)`` paths of a checkpoint given as ``x``, ``x.zip``, ``x.safetensors`` or ``x.json``."""
    path = Path(path)
    if path.suffix in (".zip", WEIGHTS_SUFFIX, ".json"):
        stem = path.with_suffix("")
    else:
        stem = path
    return stem.with_name(stem.name + WEIGHTS_SUFFIX), stem.with_name(stem.name + ".json")


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through the package's atomic writer (a temp file in the same folder, then
    ``os.replace``, with an ordinary new file's permissions); no temp file is left behind, also on error."""
    with atomic_output(path) as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())  # a record is minutes of compute: on disk before it has its name
    return Path(path)


def _policy_metadata(model: Any, run_config: dict[str, Any]) -> dict[str, str]:
    """What a reader needs besides the tensors: the network kind, its activation and the sizes."""
    import numpy as np

    policy = model.policy
    space = model.observation_space
    dict_obs = hasattr(space, "spaces")
    # A token network (obs_mode="tokens") reads (L, 3) rows and has no "observation" vector: its size is the rows'.
    obs_space = space if not dict_obs else space["tokens"] if "tokens" in space.spaces else space["observation"]
    is_ppo = hasattr(policy, "get_distribution")
    activation = policy.activation_fn if is_ppo else model.quantile_net.activation_fn
    meta = {
        "format": FORMAT, "version": FORMAT_VERSION, "algo": str(run_config["algo"]),
        "kind": "actor_critic" if is_ppo else "quantile",
        "activation": activation.__name__.lower(),
        "obs_size": str(int(np.prod(obs_space.shape))), "action_size": str(int(model.action_space.n)),
        "dict_obs": str(dict_obs).lower(), "task": str(run_config["task"]),
        # Which network: play's numpy forward pass knows only "mlp"; the others are rebuilt by load_checkpoint.
        "arch": str(run_config.get("arch", "mlp")),
        # The one game rule a run can set beyond its registered id (the forced condition): play plays by it.
        "min_thoughts": str(int(run_config["env"].get("min_thoughts", 0))),
        "num_timesteps": str(int(model.num_timesteps)),
    }
    if not is_ppo:
        meta["n_quantiles"] = str(int(model.quantile_net.n_quantiles))
    return meta


def save_checkpoint(model: Any, path: str | Path, run_config: dict[str, Any], sb3_zip: bool = False) -> Path:
    """Write ``<stem>.safetensors`` and ``<stem>.json``; return the weights path.

    ``sb3_zip`` also writes SB3's own ``<stem>.zip`` (for SB3's loader): **unsafe to share**, since reading it
    unpickles it. Both files are written atomically.
    """
    from safetensors.torch import save as save_tensors

    weights, config_path = checkpoint_paths(path)
    state = {key: value.detach().cpu().contiguous().clone() for key, value in model.policy.state_dict().items()}
    atomic_write_bytes(weights, save_tensors(state, metadata=_policy_metadata(model, run_config)))
    atomic_write_bytes(config_path, json.dumps(run_config, indent=2, default=str).encode())
    if sb3_zip:
        model.save(str(weights.with_suffix(".zip")))
    return weights


def _refuse_zip(path: Path, weights: Path) -> CheckpointError:
    instead = f"load {weights} instead, or " if weights.exists() else ""
    return CheckpointError(
        f"{path} is an SB3 .zip checkpoint, which can only be read by unpickling, and unpickling runs any code "
        f"planted in the file; refused: {instead}pass --trust-checkpoint only if you trust whoever made it")


def _read_config(config_path: Path) -> dict[str, Any]:
    from baselines.config import ALGOS, ARCHS

    if not config_path.is_file():
        raise CheckpointError(f"{config_path} (the run config saved beside the checkpoint) is missing")
    try:
        config = json.loads(config_path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise CheckpointError(f"{config_path}: not a readable JSON run config ({err})") from None
    expected = {"algo": str, "task": str, "env": dict, "hyperparams": dict, "seed": int}
    if not isinstance(config, dict):
        raise CheckpointError(f"{config_path}: a run config must be a JSON object, got {type(config).__name__}")
    for key, kind in expected.items():
        if not isinstance(config.get(key), kind) or isinstance(config.get(key), bool):
            raise CheckpointError(f"{config_path}: run config key {key!r} must be a {kind.__name__}, "
                                  f"got {config.get(key)!r:.60}")
    if config["algo"] not in ALGOS:
        raise CheckpointError(f"{config_path}: unknown algo {config['algo']!r} (known: {', '.join(ALGOS)})")
    if config.get("arch", "mlp") not in ARCHS:  # absent from configs older than the token networks: the MLP
        raise CheckpointError(f"{config_path}: unknown arch {config.get('arch')!r:.60} (known: {', '.join(ARCHS)})")
    return config


def _read_weights(weights: Path) -> tuple[dict[str, Any], dict[str, str]]:
    from safetensors import safe_open

    if not weights.is_file():
        raise CheckpointError(f"no checkpoint weights at {weights}")
    try:
        with safe_open(str(weights), framework="pt") as handle:
            meta = dict(handle.metadata() or {})
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except Exception as err:  # noqa: BLE001 - any parse failure becomes one line naming the file
        raise CheckpointError(f"{weights}: not a readable safetensors checkpoint ({type(err).__name__}: "
                              f"{str(err)[:200]})") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{weights}: not a tttthought policy checkpoint (metadata format "
                              f"{meta.get('format')!r}, expected {FORMAT!r})")
    return tensors, meta


def _check_agree(meta: dict[str, str], run_config: dict[str, Any], weights: Path, config_path: Path) -> None:
    """The weights' metadata and the run config name the same algorithm and network (play chooses its forward
    pass by the metadata's ``arch``; files older than that field hold an MLP)."""
    for key, default in (("algo", None), ("arch", "mlp")):
        if meta.get(key, default) != run_config.get(key, default):
            raise CheckpointError(f"{weights} holds a {meta.get(key, default)!r} policy, its run config {config_path} "
                                  f"says {run_config.get(key, default)!r}")


def _rebuild(run_config: dict[str, Any], config_path: Path, device: str) -> Any:
    """The untrained model of a run config, on a one-game env, with nothing written anywhere."""
    from baselines.envs import make_train_env
    from baselines.train import build_model

    config = copy.deepcopy(run_config)
    for key in OUTPUT_KEYS:
        config.pop(key, None)
    config["device"] = device
    if "buffer_size" in config["hyperparams"]:
        config["hyperparams"]["buffer_size"] = 1  # no replay memory is needed to act
    try:
        env = make_train_env(config["task"], 1, config["env"], int(config["seed"]), vec="single")
        return build_model(config, env)
    except ImportError:  # a missing library of the baselines extra (sb3-contrib is imported here), not a bad file
        raise
    except Exception as err:  # noqa: BLE001 - a config that builds no model is a bad checkpoint, not a crash
        raise CheckpointError(f"{config_path}: cannot rebuild the policy from this run config "
                              f"({type(err).__name__}: {str(err)[:200]})") from None


def _check_fit(model: Any, tensors: dict[str, Any], weights: Path, config_path: Path) -> None:
    expected = model.policy.state_dict()
    problems = [f"missing tensor {key!r}" for key in expected if key not in tensors]
    problems += [f"unexpected tensor {key!r}" for key in tensors if key not in expected]
    problems += [f"{key!r} has shape {tuple(tensors[key].shape)}, the config's network needs {tuple(value.shape)}"
                 for key, value in expected.items() if key in tensors and tensors[key].shape != value.shape]
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise CheckpointError(f"{weights} does not fit its run config {config_path}: " + "; ".join(problems[:3])
                              + more)


def load_checkpoint(path: str | Path, device: str = "cpu", trust_checkpoint: bool = False) -> tuple[Any, dict]:
    """``(model, run config)`` of a checkpoint written by :func:`save_checkpoint`, without unpickling anything.

    ``path`` may name the ``.safetensors``, the ``.json`` or their common stem. An SB3 ``.zip`` is refused
    with a :class:`CheckpointError` unless ``trust_checkpoint`` (then SB3's loader unpickles it: only for files
    from someone you trust). Every problem is a :class:`CheckpointError` naming the file.
    """
    path = Path(path)
    weights, config_path = checkpoint_paths(path)
    zip_path = path if path.suffix == ".zip" else weights.with_suffix(".zip")
    if path.suffix == ".zip" or (path.suffix not in (WEIGHTS_SUFFIX, ".json") and not weights.exists()
                                 and zip_path.exists()):
        if not zip_path.exists():
            raise CheckpointError(f"no checkpoint at {zip_path}" + (
                f" (train writes {weights}: load that)" if weights.exists() else ""))
        if not trust_checkpoint:
            raise _refuse_zip(zip_path, weights)
        return _load_sb3_zip(zip_path, config_path, device)
    if not weights.is_file():
        raise CheckpointError(f"no checkpoint weights at {weights}"
                              + (f" (and no SB3 .zip at {zip_path})" if path.suffix not in (WEIGHTS_SUFFIX, ".json")
                                 else ""))
    run_config = _read_config(config_path)
    tensors, meta = _read_weights(weights)
    _check_agree(meta, run_config, weights, config_path)
    model = _rebuild(run_config, config_path, device)
    _check_fit(model, tensors, weights, config_path)
    expected = model.policy.state_dict()
    model.policy.load_state_dict({key: tensors[key].to(expected[key].dtype) for key in expected}, strict=True)
    model.policy.set_training_mode(False)
    try:
        model.num_timesteps = int(meta.get("num_timesteps", 0))
    except ValueError:
        model.num_timesteps = 0
    return model, run_config


def _load_sb3_zip(zip_path: Path, config_path: Path, device: str) -> tuple[Any, dict]:
    """SB3's own loader (unpickles the file): only reached with ``trust_checkpoint=True``."""
    from baselines.train import algo_class

    if not zip_path.is_file():
        raise CheckpointError(f"no checkpoint at {zip_path}")
    run_config = _read_config(config_path)
    cls, _ = algo_class(run_config["algo"], bool(run_config["hyperparams"].get("masked", True)))
    try:
        return cls.load(str(zip_path), device=device), run_config
    except Exception as err:  # noqa: BLE001
        raise CheckpointError(f"{zip_path}: SB3 could not load it ({type(err).__name__}: {str(err)[:200]})") from None
