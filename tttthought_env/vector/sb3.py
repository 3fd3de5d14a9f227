"""The stable-baselines3 ``VecEnv`` adapter of :class:`~tttthought_env.vector.env.ThoughtVectorEnv`.

The class is built on first use (:func:`sb3_vec_env_class`), so that importing the vector package does not
import stable-baselines3.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tttthought_env.transition import OUTCOMES

from .env import ThoughtVectorEnv

_SB3_CLASS: list[type] = []


def sb3_vec_env_class() -> type:
    """The ``SB3VecEnv`` class (built once)."""
    if not _SB3_CLASS:
        _SB3_CLASS.append(_make_sb3_class())
    return _SB3_CLASS[0]


def _make_sb3_class() -> type:
    import time

    from gymnasium.vector import AutoresetMode
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import VecEnv

    class SB3VecEnv(VecEnv):
        """A stable-baselines3 ``VecEnv`` over a :class:`ThoughtVectorEnv` (no Python loop over games in ``step``).

        ``step_wait`` returns numpy observations, float32 rewards, bool dones and one info dict per game; games
        that ended carry ``"terminal_observation"``, ``"TimeLimit.truncated"`` (always False: episodes end by
        themselves), ``"outcome"``, ``"thoughts"`` and ``"episode"`` (``{"r", "l", "t"}``, as SB3's Monitor
        writes it, so ``env_is_wrapped(Monitor)`` is True and evaluation callbacks read the episodes).
        ``env_method("action_masks")`` returns the masks, so sb3-contrib's ``get_action_masks`` and MaskablePPO
        work. Other ``env_method``/``get_attr`` calls go to the vector env once (:meth:`ThoughtVectorEnv.call`)
        and give one value per index of ``indices``; ``set_attr`` sets the vector env's attribute, which its
        games share, so ``indices`` must name every game. With the vector env's ``render_mode="rgb_array"``,
        ``get_images`` returns a frame per game (``VecVideoRecorder`` records them). The vector env must
        autoreset in the same step (SB3's ``terminal_observation`` convention).
        """

        def __init__(self, vector_env: ThoughtVectorEnv) -> None:
            if not isinstance(vector_env, ThoughtVectorEnv):
                raise TypeError(f"vector_env must be a ThoughtVectorEnv, got {type(vector_env).__name__}")
            if vector_env.autoreset_mode != AutoresetMode.SAME_STEP:
                raise ValueError("SB3VecEnv needs a vector env with autoreset_mode='same_step' (SB3 resets finished "
                                 f"games in the same step), got {vector_env.autoreset_mode}")
            self.venv = vector_env
            super().__init__(vector_env.num_envs, vector_env.single_observation_space,
                             vector_env.single_action_space)
            self._actions: np.ndarray | None = None
            self._ep_return = np.zeros(self.num_envs, np.float64)
            self._ep_len = np.zeros(self.num_envs, np.int64)
            self._t0 = time.time()

        def _np(self, x: Any) -> Any:
            be = self.venv.backend
            if isinstance(x, dict):
                return {key: be.to_numpy(value) for key, value in x.items()}
            return be.to_numpy(x)

        def reset(self) -> Any:
            seed = self._seeds[0] if self._seeds and self._seeds[0] is not None else None
            obs, _ = self.venv.reset(seed=seed)
            self._reset_seeds()
            self._reset_options()
            self._ep_return[:] = 0.0
            self._ep_len[:] = 0
            return self._np(obs)

        def step_async(self, actions: np.ndarray) -> None:
            self._actions = actions

        def step_wait(self) -> Any:
            obs, rewards, terminated, truncated, infos = self.venv.step(np.asarray(self._actions).reshape(-1))
            obs = self._np(obs)
            rewards = self.venv.backend.to_numpy(rewards)
            dones = self.venv.backend.to_numpy(terminated) | self.venv.backend.to_numpy(truncated)
            self._ep_return += rewards
            self._ep_len += 1
            info_list: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
            ended = np.flatnonzero(dones)
            if ended.size:
                final = self._np(infos["final_obs"])
                outcome = self.venv.backend.to_numpy(infos["outcome"])
                thoughts = self.venv.backend.to_numpy(infos["thoughts"])
                elapsed = round(time.time() - self._t0, 6)
                for i in ended.tolist():
                    info_list[i] = {
                        "terminal_observation": {key: value[i] for key, value in final.items()}
                        if isinstance(final, dict) else final[i],
                        "TimeLimit.truncated": False,
                        "outcome": int(outcome[i]),  # an index into OUTCOMES, as in every info
                        "thoughts": int(thoughts[i]),
                        "episode": {"r": float(self._ep_return[i]), "l": int(self._ep_len[i]), "t": elapsed},
                    }
                self._ep_return[ended] = 0.0
                self._ep_len[ended] = 0
            return obs, rewards.astype(np.float32), dones, info_list

        def close(self) -> None:
            self.venv.close()

        def action_masks(self) -> np.ndarray:
            return self.venv.backend.to_numpy(self.venv.action_masks())

        def _indices(self, indices: Any) -> list[int]:
            return list(self._get_indices(indices))

        def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
            value = getattr(self.venv, attr_name)
            return [value for _ in self._indices(indices)]

        def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
            idx = self._indices(indices)
            if sorted(set(idx)) != list(range(self.num_envs)):
                raise ValueError(f"set_attr({attr_name!r}, indices={indices!r}): the games of a ThoughtVectorEnv share "
                                 "its attributes, so set_attr sets every game's (indices=None)")
            setattr(self.venv, attr_name, value)

        def env_method(self, method_name: str, *method_args: Any, indices: Any = None,
                       **method_kwargs: Any) -> list[Any]:
            idx = self._indices(indices)
            if method_name == "action_masks":
                masks = self.action_masks()
                return [masks[i] for i in idx]
            results = self.venv.call(method_name, *method_args, **method_kwargs)  # per-game rows where per game
            return [results[i] for i in idx]

        def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
            # step_wait writes Monitor's "episode" infos, which is what callers check the Monitor for
            return [wrapper_class is Monitor for _ in self._indices(indices)]

        def get_images(self) -> list[Any]:
            frames = self.venv.render()
            return list(frames) if frames is not None else [None for _ in range(self.num_envs)]

    SB3VecEnv.__module__ = "tttthought_env.vector"
    return SB3VecEnv
