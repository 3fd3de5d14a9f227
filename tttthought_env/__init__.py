"""tttthought-env: tic-tac-toe and m,n,k games where thinking is an action.

Importing the package registers the Gymnasium ids ``tttthought/Plain-v0``, ``Propose-v0``,
``ProposeNegate-v0`` and ``Full-v0`` (and the same ids in PettingZoo's AEC registry).
"""

from tttthought_env.config import CHANNELS, Config
from tttthought_env.core import Game
from tttthought_env.layout import ACTION_KINDS, Layout
from tttthought_env.gymnasium_env import ThoughtTicTacToeEnv
from tttthought_env.registration import TASKS, register_all
from tttthought_env.transition import INFO_KEYS, OUTCOMES, STEP_KINDS

__version__ = "0.1.0"

register_all()

__all__ = ["ACTION_KINDS", "CHANNELS", "INFO_KEYS", "OUTCOMES", "STEP_KINDS", "TASKS", "Config", "Game", "Layout",
           "ThoughtTicTacToeEnv", "__version__"]
