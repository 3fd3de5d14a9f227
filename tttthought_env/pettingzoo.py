"""PettingZoo entry points: ``tttthought_env.pettingzoo.env(**config)`` and ``raw_env(**config)``."""

from tttthought_env.pettingzoo_env import AGENTS, env, raw_env

__all__ = ["AGENTS", "env", "raw_env"]
