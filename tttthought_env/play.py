"""Play in the terminal against minimax, a heuristic, a random player or a saved agent, thinking as you go.

On your turn type a cell (``4``) to move, or think first: ``propose 4`` (``+4``), ``negate 0`` (``-0``),
``forget 4``, ``marker 1`` (``#1``); ``help`` lists the commands. The game runs on the PettingZoo env;
:func:`play` takes input and output streams, so a game can be scripted.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from tttthought_env.config import Config
from tttthought_env.layout import Layout, layout_for
from tttthought_env.opponents import OPPONENTS, make_opponent
from tttthought_env.render import render_ansi
from tttthought_env.replay import EpisodeRecorder, reward_parts_of
from tttthought_env.transition import OUTCOMES, outcome_code, outcome_name

if TYPE_CHECKING:
    from tttthought_env.pettingzoo_env import raw_env

ALIASES = {"+": "propose", "p": "propose", "propose": "propose", "-": "negate", "n": "negate", "negate": "negate",
           "f": "forget", "forget": "forget", "#": "marker", "mark": "marker", "marker": "marker",
           "m": "move", "move": "move", "play": "move"}
KEYWORDS = {**dict.fromkeys(("quit", "exit", "q", ":q"), "quit"), **dict.fromkeys(("help", "?", "h"), "help"),
            **dict.fromkeys(("board", "b", "show"), "board")}
HUMAN_SIDES = ("X", "O", "alternate")


class PlayError(ValueError):
    """A problem with the settings of a game (unknown task, unloadable agent, ...), said in words."""


class _NumpyPolicy:
    """The forward pass of a saved policy network in numpy: MaskablePPO's actor or QR-DQN's quantile net."""

    ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "tanh": np.tanh, "relu": lambda x: np.maximum(x, 0.0)}

    def __init__(self, layers: list[tuple[np.ndarray, np.ndarray]], activation: str, n_quantiles: int | None) -> None:
        self.layers, self.activate, self.n_quantiles = layers, self.ACTIVATIONS[activation], n_quantiles
        self.rng = np.random.default_rng()

    def set_random_seed(self, seed: int | None) -> None:
        self.rng = np.random.default_rng(seed)

    def scores(self, obs: np.ndarray) -> np.ndarray:
        """Action scores of one observation vector: logits (PPO) or mean quantiles (QR-DQN)."""
        x = np.asarray(obs, dtype=np.float32).reshape(-1)
        for i, (weight, bias) in enumerate(self.layers):
            x = weight @ x + bias
            if i < len(self.layers) - 1:  # every hidden layer; the output layer is linear
                x = self.activate(x)
        if self.n_quantiles is not None:
            x = x.reshape(self.n_quantiles, -1).mean(axis=0)
        return x

    def choose(self, obs: np.ndarray, mask: np.ndarray, deterministic: bool) -> int:
        scores = np.where(np.asarray(mask, dtype=bool), self.scores(obs).astype(np.float64), -np.inf)
        if deterministic or self.n_quantiles is not None:
            return int(np.argmax(scores))
        probs = np.exp(scores - scores.max())
        return int(self.rng.choice(len(probs), p=probs / probs.sum()))


class AgentPlayer:
    """A saved agent (MaskablePPO or QR-DQN, written by ``tttthought train``) that plays and thinks through the
    PettingZoo env.

    ``path`` is the ``.safetensors`` checkpoint (weights only, so nothing in the file is executed). An MLP
    (``--arch mlp``, the default) runs its forward pass in numpy, with no torch; a token network (``--arch
    deepsets`` or ``transformer``) is rebuilt from the JSON run config beside the weights by
    ``baselines.checkpoints.load_checkpoint`` (never unpickles; needs the baselines extra) and sees token
    observations. An SB3 ``.zip`` can only be read by unpickling, which runs any code planted in it: it is
    refused unless ``trust_checkpoint=True`` (only for files from someone you trust).
    """

    FORMAT = "tttthought-policy"

    def __init__(self, path: str, deterministic: bool = True, trust_checkpoint: bool = False) -> None:
        self.path, self.deterministic, self.task = path, deterministic, None
        # The observation the agent was trained on: the play env is built with this obs_mode (_setup). The numpy
        # MLP reads the vector of "dict"; an SB3 model reads exactly its own space, which ``space`` holds when the
        # whole space must match a task (the embedding tables of a token network are sized by its bounds).
        self.obs_mode: str = "dict"
        # The forced condition's rule (the run's env min_thoughts, not part of any registered id): the match
        # plays by it, or a forced agent would play a game it never saw. 0 for files older than the field.
        self.min_thoughts: Any = 0
        self.space: Any = None  # a gymnasium Dict space when set
        stem, ext = os.path.splitext(path)
        if ext not in (".safetensors", ".zip", ".json"):
            stem, ext = path, (".safetensors" if os.path.exists(path + ".safetensors")
                               else ".zip" if os.path.exists(path + ".zip") else "")
        if ext == ".zip":
            self._load_zip(stem + ".zip", trust_checkpoint)
        elif ext in (".safetensors", ".json"):
            self._load_weights(stem + ".safetensors")
        else:
            raise PlayError(f"no saved agent at {path!r} (expected a .safetensors checkpoint written by "
                            "tttthought train)")

    def _load_zip(self, path: str, trust_checkpoint: bool) -> None:
        if not os.path.exists(path):
            raise PlayError(f"no saved agent at {path!r}")
        if not trust_checkpoint:
            weights = path[:-len(".zip")] + ".safetensors"
            instead = f"use {weights} instead, or " if os.path.exists(weights) else ""
            raise PlayError(f"{path} is an SB3 .zip agent, which can only be read by unpickling, and unpickling "
                            f"runs any code planted in the file; refused: {instead}pass --trust-checkpoint only if "
                            "you trust whoever made it")
        try:
            from sb3_contrib import MaskablePPO
        except ImportError as err:  # pragma: no cover - depends on the installed extras
            raise PlayError("playing a saved SB3 agent needs sb3-contrib: pip install 'tttthought-env[baselines]' "
                            f"-c constraints.txt ({err})") from None
        try:
            self.model: Any = MaskablePPO.load(path, device="cpu")
        except Exception as err:  # noqa: BLE001 - any load failure becomes a readable message
            raise PlayError(f"could not load {path!r} as a MaskablePPO agent: {type(err).__name__}: {err}") from None
        self._adopt(self.model, "tokens" if "tokens" in getattr(self.model.observation_space, "spaces", {})
                    else "dict" if hasattr(self.model.observation_space, "spaces") else "flat")

    def _adopt(self, model: Any, obs_mode: str) -> None:
        """Play through the SB3 ``model``, which reads observations of ``obs_mode``."""
        self.model, self.sb3, self.obs_mode = model, True, obs_mode
        space: Any = model.observation_space
        self.action_size = int(getattr(model.action_space, "n"))
        self.obs_size = int(np.prod((space["tokens"] if obs_mode == "tokens" else space["observation"]
                                     if obs_mode == "dict" else space).shape))
        self.space = space if obs_mode == "tokens" else None

    def _load_weights(self, path: str) -> None:
        if not os.path.exists(path):
            raise PlayError(f"no saved agent at {path!r}")
        try:
            from safetensors import safe_open
        except ImportError as err:  # pragma: no cover - depends on the installed extras
            raise PlayError(f"playing a saved agent needs safetensors: pip install safetensors ({err})") from None
        try:
            with safe_open(path, framework="numpy") as handle:
                meta = dict(handle.metadata() or {})
                tensors = {key: handle.get_tensor(key) for key in handle.keys()}
        except Exception as err:  # noqa: BLE001 - any parse failure becomes one line naming the file
            raise PlayError(f"{path}: not a readable safetensors agent ({type(err).__name__}: "
                            f"{str(err)[:200]})") from None
        if meta.get("arch", "mlp") != "mlp":  # written by save_checkpoint; absent from files older than the field
            self._load_checkpoint(path, meta["arch"])
            return
        self.sb3 = False
        self.model = self._network(path, meta, tensors)
        self.task = meta.get("task")
        written = meta.get("min_thoughts", "0")
        self.min_thoughts = int(written) if written.isdigit() else written  # not a count: the env names it

    def _load_checkpoint(self, path: str, arch: str) -> None:
        """A token network: its forward pass is torch's, so the baselines' loader rebuilds it from the validated
        JSON run config beside the weights (nothing is unpickled) and it acts through SB3's ``predict``."""
        import importlib
        import warnings

        needs = (f"playing a saved {arch:.40} agent needs the baselines extra (torch, sb3-contrib): pip install "
                 "'tttthought-env[baselines]' -c constraints.txt")
        try:  # imported by name: the env package never depends on baselines, for mypy neither (cli's plugins alike)
            checkpoints: Any = importlib.import_module("baselines.checkpoints")
        except ImportError as err:  # pragma: no cover - baselines/ ships with the package; its extras may not
            raise PlayError(f"{needs} ({err})") from None
        try:
            with warnings.catch_warnings():
                # The loader's throwaway env trips gymnasium's passive checker (the budget row's equal bounds).
                warnings.filterwarnings("ignore", category=UserWarning, module=r"gymnasium\.")
                model, run_config = checkpoints.load_checkpoint(path, device="cpu")
        except ImportError as err:  # the loader imports torch, SB3, sb3-contrib and PyYAML as it needs them
            raise PlayError(f"{needs} ({err})") from None
        except checkpoints.CheckpointError as err:  # already one line naming the file
            raise PlayError(str(err)) from None
        # The validated run config names the task and the env's obs_mode (a token network: "tokens"); fits()
        # checks that the model's space is that obs_mode's space of the task played.
        self.task = run_config["task"]
        self.min_thoughts = run_config["env"].get("min_thoughts", 0)  # checked by the env like any setting
        self._adopt(model, str(run_config["env"].get("obs_mode", "flat")))

    def _network(self, path: str, meta: dict[str, str], tensors: dict[str, np.ndarray]) -> _NumpyPolicy:
        """Check the metadata and the tensor shapes, and chain the layers; a :class:`PlayError` names the flaw."""
        def bad(why: str) -> PlayError:
            return PlayError(f"{path}: not a usable agent: {why}")

        if meta.get("format") != self.FORMAT:
            raise bad(f"metadata format {meta.get('format')!r}, expected {self.FORMAT!r}")
        kind, activation = meta.get("kind"), meta.get("activation")
        if kind not in ("actor_critic", "quantile"):
            raise bad(f"unknown network kind {kind!r}")
        if activation not in _NumpyPolicy.ACTIVATIONS:
            raise bad(f"unsupported activation {activation!r}")
        try:
            self.obs_size, self.action_size = int(meta["obs_size"]), int(meta["action_size"])
            n_quantiles = int(meta["n_quantiles"]) if kind == "quantile" else None
        except (KeyError, ValueError) as err:
            raise bad(f"metadata lacks a size ({err})") from None
        layers = self._layers(tensors, kind, bad)
        out, width = self.action_size * (n_quantiles or 1), layers[-1][0].shape[0]
        if width != out:
            raise bad(f"the network ends in {width} outputs, {out} expected for {self.action_size} actions")
        return _NumpyPolicy(layers, str(activation), n_quantiles)

    def _layers(self, tensors: dict[str, np.ndarray], kind: str,
                bad: Callable[[str], PlayError]) -> list[tuple[np.ndarray, np.ndarray]]:
        """The (weight, bias) layers of the network, each checked to take the previous layer's output."""
        prefix = "mlp_extractor.policy_net." if kind == "actor_critic" else "quantile_net.quantile_net."
        indices = sorted({int(key[len(prefix):].split(".")[0]) for key in tensors
                          if key.startswith(prefix) and key[len(prefix):].split(".")[0].isdigit()})
        names = [f"{prefix}{i}" for i in indices] + (["action_net"] if kind == "actor_critic" else [])
        layers, width = [], self.obs_size
        for name in names:
            weight, bias = tensors.get(f"{name}.weight"), tensors.get(f"{name}.bias")
            if weight is None or bias is None:
                raise bad(f"missing tensor {name}.weight or {name}.bias")
            if weight.ndim != 2 or weight.shape[1] != width or bias.shape != (weight.shape[0],):
                raise bad(f"{name} has shapes {weight.shape} and {bias.shape}, expected (?, {width}) and (?,)")
            layers.append((weight.astype(np.float32), bias.astype(np.float32)))
            width = weight.shape[0]
        if not layers:
            raise bad(f"no {prefix}* layers in the file")
        return layers

    def fits(self, layout: Layout) -> bool:
        if self.space is not None:
            return layout.action_size == self.action_size and layout.observation_space(self.obs_mode) == self.space
        return (layout.action_size, layout.obs_size) == (self.action_size, self.obs_size)

    def _sizes(self, layout: Layout | None = None) -> str:
        """The agent's (or ``layout``'s) actions and observation, in words, for a mismatch message."""
        actions = self.action_size if layout is None else layout.action_size
        if self.obs_mode != "tokens":
            return f"{actions} actions and {self.obs_size if layout is None else layout.obs_size} observation values"
        space: Any = self.space if layout is None else layout.observation_space("tokens")
        tokens = space["tokens"]
        return f"{actions} actions and {tokens.shape[0]} tokens up to {tuple(int(v) for v in tokens.high.max(axis=0))}"

    def matching_task(self) -> str | None:
        """The task the agent was trained on, else the first registered id whose sizes fit the agent."""
        from tttthought_env.registration import TASKS

        task = self.task
        if task is not None and task in TASKS and self.fits(layout_for(Config.from_settings(TASKS[task]))):
            return task
        return next((task for task, settings in TASKS.items() if self.fits(layout_for(Config.from_settings(settings)))),
                    None)

    def check(self, layout: Layout, task: str) -> None:
        if not self.fits(layout):
            hint = self.matching_task()
            raise PlayError(f"the agent in {self.path!r} has {self._sizes()}, task {task!r} has "
                            f"{self._sizes(layout)}" + (f"; try --task {hint}" if hint else ""))

    def act(self, env: raw_env, agent: str) -> int:
        observed = env.observe(agent)  # in self.obs_mode: _setup builds the env with the agent's obs_mode
        mask = env.action_masks(agent)
        if not self.sb3:
            return self.model.choose(observed["observation"], mask, self.deterministic)
        action, _ = self.model.predict(observed, action_masks=mask, deterministic=self.deterministic)
        return int(action)


# ------------------------------------------------------------------------------ commands
def _help(env: raw_env, player: int) -> str:
    game, cfg = env.game, env.config
    empty = " ".join(str(c) for c in range(game.n) if game.board[c] == 0)
    lines = [f"  a cell number 0-{game.n - 1} moves there (empty now: {empty}); 'move 4' works too"]
    if not cfg.thinking:
        lines.append("  this task has no thought actions (plain tic-tac-toe)")
    else:
        if game.thoughts_left[player] <= 0:
            lines.append("  no thoughts are left this turn: you must move")
            return "\n".join([*lines, "  help shows this, board shows the board, quit ends the game"])
        held = " ".join(f"{s}{a}" for s, a in game.store_entries(player) if s != "#") or "none"
        usage = {"propose": "  propose P  (or +P)  assert +P in your store, e.g. 'propose 4'",
                 "negate": "  negate P   (or -P)  assert -P, e.g. 'negate 0'",
                 "forget": f"  forget P            remove +P or -P (in your store: {held})",
                 "marker": f"  marker M   (or #M)  add marker M, 0-{cfg.num_markers - 1}"}
        lines += [text for channel, text in usage.items() if channel in env.layout.blocks]
        lines.append(f"  you have {game.thoughts_left[player]} of {cfg.max_thoughts} thoughts left this turn")
    lines.append("  help shows this, board shows the board, quit ends the game")
    return "\n".join(lines)


def _action_of(env: raw_env, player: int, channel: str, text: str) -> tuple[str, Any]:
    """``("action", id)`` of ``channel`` and its argument ``text``, or ``("error", why not)``."""
    layout, game = env.layout, env.game
    if channel not in layout.blocks:
        on = ", ".join(c for c in layout.blocks if c != "move")
        return "error", f"the {channel!r} thought is not part of this task; " + (
            f"its thoughts are: {on}" if on else "it has no thoughts")
    width, what = layout.blocks[channel][1], "marker" if channel == "marker" else "cell"
    try:
        arg = int(text)
    except ValueError:
        return "error", f"{channel} needs a {what} number 0-{width - 1}, got {text!r}"
    if not 0 <= arg < width:
        return "error", f"{what} must be 0-{width - 1}, got {arg}"
    action = layout.encode_action(channel, arg)
    if not game.is_legal(action):
        return "error", f"{channel} {arg} is not allowed: {game.illegal_reason(action)}. Allowed:\n{_help(env, player)}"
    return "action", action


def parse_command(text: str, env: raw_env, player: int) -> tuple[str, Any]:
    """Turn a line of input into ``("action", id)``, ``("help"|"board"|"quit", None)`` or ``("error", message)``."""
    words = text.strip().lower().replace(",", " ").split()
    if not words:
        return "error", "type a cell number to move, or 'help'"
    if words[0] in KEYWORDS:
        return KEYWORDS[words[0]], None
    if len(words) == 1 and len(words[0]) > 1 and words[0][0] in "+-#":  # +4, -0, #1
        words = [words[0][0], words[0][1:]]
    if len(words) == 1 and words[0].isdigit():
        words = ["move", words[0]]
    if len(words) != 2 or words[0] not in ALIASES:
        return "error", f"I did not understand {text.strip()!r}. Allowed:\n{_help(env, player)}"
    return _action_of(env, player, ALIASES[words[0]], words[1])


# ------------------------------------------------------------------------------ one game
@dataclass
class Computer:
    """The human's opponent: its name and how it chooses an action (``choose(env, player) -> action``)."""

    name: str
    choose: Callable[[Any, int], int]


class GameSession:
    """One game between the human (player ``me``) and the computer on the PettingZoo env."""

    def __init__(self, env: raw_env, computer: Computer, me: int, input: TextIO, output: TextIO,
                 shaping: str | None = None) -> None:
        self.env, self.game, self.computer, self.me = env, env.game, computer, me
        self.input, self.output, self.shaping = input, output, shaping
        self.names = {me: "you", 1 - me: computer.name}
        self.recorder: EpisodeRecorder | None = None
        self.shown = False  # whether the board was shown this turn

    def say(self, text: str) -> None:
        print(text, file=self.output, flush=True)

    def run(self) -> bool:
        """Play until the game ends (True), or the human quits or the input ends (False)."""
        while not self.game.done:
            if self.game.to_move != self.me:
                self.computer_turn()
            elif not self.human_turn():
                return False
        return True

    def act(self, player: int, action: int) -> tuple[str, int, dict[str, Any]]:
        """Step ``player``'s action and record it; its channel, argument and the player's info."""
        agent = self.env.possible_agents[player]
        mask = self.env.action_masks(agent)
        self.env.step(action)
        info = self.env.infos[agent]
        if self.recorder is not None:
            self.recorder.step(player, action, mask, self.env.rewards[agent], reward_parts_of(info),
                               terminated=self.game.done, outcome=outcome_name(info["outcome"]))
        return (*self.env.layout.decode[action], info)

    def human_turn(self) -> bool:
        """Read and carry out one command of the human; False when they quit or the input ends."""
        if not self.shown:
            self.say(render_ansi(self.game, names=self.names, numbered=True))
            self.shown = True
        left = f", {self.game.thoughts_left[self.me]} thought(s) left" if self.game.config.thinking else ""
        print(f"your move{left}> ", end="", file=self.output, flush=True)
        line = self.input.readline()
        if not line:
            self.say("\n(end of input)")
            return False
        kind, value = parse_command(line, self.env, self.me)
        if kind == "action":
            self.human_action(value)
        elif kind == "help":
            self.say(_help(self.env, self.me))
        elif kind == "board":
            self.say(render_ansi(self.game, names=self.names, numbered=True))
        elif kind == "error":
            self.say(value)
        return kind != "quit"

    def human_action(self, action: int) -> None:
        channel, arg, info = self.act(self.me, action)
        if channel == "move":
            self.say(f"you move {arg}")
            self.shown = False
            return
        paid = info.get("reward_shaping", 0.0)
        self.say(f"you think {channel} {arg}: your store is now {self.game.store_string(self.me) or '(empty)'}"
                 + (f"   (R(δx) {paid:+.3f})" if self.shaping else ""))

    def computer_turn(self) -> None:
        """The computer thinks (a saved agent may) until it moves; its thoughts are shown with its move."""
        player, thoughts = self.game.to_move, list[str]()
        who = f"{self.computer.name} ({'XO'[player]})"
        while not self.game.done and self.game.to_move == player:
            channel, arg, _ = self.act(player, self.computer.choose(self.env, player))
            if channel == "move":
                if thoughts:
                    store = self.game.store_string(player) or "(empty)"
                    self.say(f"{who} thinks: {', '.join(thoughts)}  -> store {store}")
                self.say(f"{who} moves {arg}")
                return
            thoughts.append(f"{channel} {arg}")

    def outcome(self) -> str:
        """``"win"``, ``"draw"`` or ``"loss"`` from the human's side (the game must be over)."""
        return OUTCOMES[outcome_code(self.game.winner, self.me)]


# ------------------------------------------------------------------------------ the match
def _setup(task: str | None, opponent: str | Callable[..., int], seed: int | None, shaping: str | None,
           deterministic: bool, trust_checkpoint: bool = False) -> tuple[str, raw_env, Computer]:
    """The task id, the env and the computer of a match; a :class:`PlayError` for bad settings."""
    from tttthought_env.pettingzoo_env import raw_env
    from tttthought_env.registration import TASKS

    agent = None
    if isinstance(opponent, str) and opponent not in OPPONENTS:
        stem = os.path.splitext(opponent)[0]
        if not any(os.path.exists(path) for path in (opponent, stem + ".safetensors", stem + ".zip")):
            raise PlayError(f"opponent must be one of {', '.join(OPPONENTS)} or the path of a saved agent "
                            f"(.safetensors), got {opponent!r}")
        agent = AgentPlayer(opponent, deterministic=deterministic, trust_checkpoint=trust_checkpoint)
    given = task or (agent.matching_task() if agent else None) or "tttthought/Full-v0"
    task = given if "/" in given else f"tttthought/{given}"
    if task not in TASKS:
        raise PlayError(f"unknown task {given!r}; registered: {', '.join(TASKS)}")
    try:
        # The agent sees the observation it was trained on; the human's side reads the game, not the observation.
        rules = {"min_thoughts": agent.min_thoughts} if agent is not None and agent.min_thoughts != 0 else {}
        env = raw_env(**{**TASKS[task], **rules}, illegal_action="raise",
                      obs_mode=agent.obs_mode if agent else "dict", shaping=shaping)
    except (TypeError, ValueError) as err:
        raise PlayError(str(err)) from None
    return task, env, _computer(opponent, agent, env, task, seed)


def _computer(opponent: str | Callable[..., int], agent: AgentPlayer | None, env: raw_env, task: str,
              seed: int | None) -> Computer:
    if agent is not None:
        agent.check(env.layout, task)
        if seed is not None:
            agent.model.set_random_seed(seed)  # reproducible sampling with --stochastic
        return Computer("agent", lambda env, player: agent.act(env, env.possible_agents[player]))
    policy = make_opponent(opponent, rows=env.config.rows, cols=env.config.cols, k=env.config.k)
    rng = np.random.default_rng(seed)
    name = opponent if isinstance(opponent, str) else getattr(opponent, "__name__", "opponent")
    return Computer(name, lambda env, player: int(policy(env.game.board, rng)))


def _play_one(session: GameSession, index: int, task: str, seed: int | None, record: str | None) -> str:
    """Play game ``index`` of the match (recorded to ``record``); its outcome from the human's side, or ``"quit"``."""
    session.env.reset(seed=None if seed is None else seed + index)
    if record:
        session.recorder = EpisodeRecorder(session.game, names=session.names, env_id=task, meta={"human": session.me})
        session.recorder.reset(seed=seed)
    session.say(f"\nGame {index + 1}: you are {'XO'[session.me]}" + (" and move first." if session.me == 0 else "."))
    if session.game.config.thinking:
        session.say(f"A thought ({', '.join(session.game.config.channels)}) edits your private store, never the "
                    "board; a move ends your turn.")
    finished = session.run()
    if record and session.recorder is not None and len(session.recorder.lines) > 1:
        session.recorder.write(record)
        session.say(f"recorded this game to {record} (replay it: tttthought replay {record} --html replay.html)")
    if not finished:
        session.say("bye")
        return "quit"
    session.say(render_ansi(session.game, names=session.names))
    outcome = session.outcome()
    session.say({"win": "You win!", "draw": "A draw.", "loss": f"{session.computer.name} wins."}[outcome])
    return outcome


def play(task: str | None = "tttthought/Full-v0", opponent: str | Callable[..., int] = "minimax", human: str = "X",
         seed: int | None = None, games: int = 1, input: TextIO | None = None, output: TextIO | None = None,
         record: str | None = None, shaping: str | None = None, deterministic: bool = True,
         trust_checkpoint: bool = False) -> list[str]:
    """Play ``games`` games in a terminal; return the outcomes from your side (``"win"``, ``"draw"``, ``"loss"``,
    or ``"quit"`` when you quit or the input ends).

    ``opponent``: ``"minimax"``, ``"heuristic"``, ``"random"``, a saved agent (``.safetensors``, as ``train``
    writes it; an SB3 ``.zip`` only with ``trust_checkpoint=True``, since loading one runs any code planted in
    it) or a callable ``(board, rng) -> cell``; ``human``: ``"X"`` (moves first), ``"O"`` or ``"alternate"``; ``record``: write each
    game as an episode (``{stem}-{i}.jsonl`` for several); ``shaping``: show what R(δx) your thoughts earn.
    """
    if human not in HUMAN_SIDES:
        raise PlayError(f"human must be 'X', 'O' or 'alternate', got {human!r}")
    task, env, computer = _setup(task, opponent, seed, shaping, deterministic, trust_checkpoint)
    input, output = sys.stdin if input is None else input, sys.stdout if output is None else output
    print(f"tttthought play: {task} against {computer.name}. Type 'help' for the commands.", file=output, flush=True)
    if env.config.min_thoughts:
        print(f"The agent trained with forced thinking, so this match plays by it: each player thinks at least "
              f"{env.config.min_thoughts} time(s) before a move, while a thought is legal.", file=output, flush=True)
    outcomes: list[str] = []
    while len(outcomes) < games and "quit" not in outcomes:
        index = len(outcomes)
        me = 0 if human == "X" else 1 if human == "O" else index % 2
        path = record if games == 1 or not record else _numbered(record, index)
        outcomes.append(_play_one(GameSession(env, computer, me, input, output, shaping), index, task, seed, path))
    if len(outcomes) > 1:
        print("results: " + ", ".join(f"{o} {outcomes.count(o)}" for o in ("win", "draw", "loss", "quit")
                                      if o in outcomes), file=output, flush=True)
    return outcomes


def _numbered(path: str, index: int) -> str:
    stem, ext = os.path.splitext(path)
    return f"{stem}-{index}{ext or '.jsonl'}"
