"""``tttthought_env.config``: every argument of the envs is checked once, naming the argument and the value."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from tttthought_env.config import (
    CHANNELS,
    CONFIG_KEYS,
    MAX_CELLS,
    OPTION_KEYS,
    Config,
    EnvOptions,
    check_choice,
    check_int,
    check_real,
)

# --------------------------------------------------------------------------- Config


def test_config_defaults():
    cfg = Config()
    assert (cfg.rows, cfg.cols, cfg.k) == (3, 3, 3)
    assert cfg.channels == CHANNELS == ("propose", "negate", "forget", "marker")
    assert cfg.max_thoughts == 3
    assert cfg.memory_size == 9  # N
    assert cfg.num_markers == 2
    assert cfg.persist == "game"
    assert cfg.n_cells == 9 and cfg.thinking
    assert Config(rows=4, cols=5, k=3).memory_size == 20
    assert MAX_CELLS == 64


def test_channels_order_is_canonical():
    assert Config(channels=("marker", "propose")) == Config(channels=("propose", "marker"))
    assert Config(channels=("marker", "propose")).channels == ("propose", "marker")
    assert Config(channels=["negate", "forget"]).channels == ("negate", "forget")
    assert Config(channels=iter(["forget"])).channels == ("forget",)


def test_config_is_frozen_hashable_and_round_trips():
    cfg = Config(rows=4, cols=4, k=3, channels=("negate",), memory_size=5, persist="turn")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.rows = 5  # type: ignore[misc]
    assert hash(cfg) == hash(Config(**cfg.as_dict()))
    assert Config(**cfg.as_dict()) == cfg
    assert tuple(cfg.as_dict()) == CONFIG_KEYS == ("rows", "cols", "k", "channels", "max_thoughts", "memory_size",
                                                   "num_markers", "persist", "min_thoughts", "view")
    # from_settings keeps the rule keys of an env's settings and ignores the others.
    assert Config.from_settings({**cfg.as_dict(), "opponent": "minimax", "thought_cost": 0.1}) == cfg
    assert Config.from_settings({"channels": ()}) == Config(channels=())


@pytest.mark.parametrize("kwargs, thinking", [
    (dict(), True), (dict(channels=()), False), (dict(max_thoughts=0), False), (dict(channels=("marker",)), True),
])
def test_thinking_is_false_only_for_the_plain_control(kwargs, thinking):
    assert Config(**kwargs).thinking is thinking


BAD_CONFIGS = [
    (dict(rows=0), ValueError, r"rows.*>= 1.*0"),
    (dict(rows=-2), ValueError, r"rows"),
    (dict(rows=2.5), TypeError, r"rows.*int"),
    (dict(rows="3"), TypeError, r"rows"),
    (dict(rows=True), TypeError, r"rows"),
    (dict(rows=np.bool_(True)), TypeError, r"rows"),
    (dict(cols=0), ValueError, r"cols"),
    (dict(cols=None), TypeError, r"cols"),
    (dict(k=0), ValueError, r"k"),
    (dict(k=4), ValueError, r"k must be between 1 and max\(rows, cols\) = 3.*4"),
    (dict(rows=2, cols=5, k=6), ValueError, r"k must be between 1 and max\(rows, cols\) = 5"),
    (dict(rows=9, cols=9), ValueError, r"64"),
    (dict(rows=5, cols=13, k=3), ValueError, r"at most 64 cells.*rows=5, cols=13 \(65\)"),
    (dict(channels="propose"), TypeError, r"channels"),
    (dict(channels=5), TypeError, r"channels"),
    (dict(channels=None), TypeError, r"channels"),
    (dict(channels=("think",)), ValueError, r"unknown channel 'think'.*propose.*negate.*forget.*marker"),
    (dict(channels=("propose", "Propose")), ValueError, r"channel"),
    (dict(channels=("propose", "propose")), ValueError, r"channels must not repeat"),
    (dict(max_thoughts=-1), ValueError, r"max_thoughts.*-1"),
    (dict(max_thoughts=1.0), TypeError, r"max_thoughts"),
    (dict(max_thoughts=None), TypeError, r"max_thoughts"),
    (dict(memory_size=0), ValueError, r"memory_size must be an int in \[1, 4096\], got 0"),
    # Upper bounds, checked before anything is allocated (a store of 10**9 entries, 10**7 marker actions).
    (dict(memory_size=10**9), ValueError, r"memory_size must be an int in \[1, 4096\], got 1000000000"),
    (dict(num_markers=10**7), ValueError, r"num_markers must be an int in \[0, 64\], got 10000000"),
    (dict(max_thoughts=65), ValueError, r"max_thoughts must be an int in \[0, 64\], got 65"),
    (dict(memory_size=-3), ValueError, r"memory_size"),
    (dict(memory_size=2.0), TypeError, r"memory_size"),
    (dict(num_markers=0), ValueError, r"num_markers.*marker"),
    (dict(num_markers=-1, channels=("propose",)), ValueError, r"num_markers"),
    (dict(num_markers=1.5), TypeError, r"num_markers"),
    (dict(persist="round"), ValueError, r"persist.*'game'.*'turn'.*'round'"),
    (dict(persist=None), ValueError, r"persist"),
    (dict(min_thoughts=4), ValueError, r"min_thoughts must be an int in \[0, 3\], got 4"),  # at most max_thoughts
    (dict(min_thoughts=-1), ValueError, r"min_thoughts must be an int in \[0, 3\], got -1"),
    (dict(min_thoughts=True), TypeError, r"min_thoughts must be an int in \[0, 3\], got True of type bool"),
]


@pytest.mark.parametrize("kwargs, error, pattern", BAD_CONFIGS, ids=[str(c[0]) for c in BAD_CONFIGS])
def test_bad_config_raises_naming_the_argument(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        Config(**kwargs)


@pytest.mark.parametrize("kwargs", [
    dict(num_markers=0, channels=("propose", "negate", "forget")),  # no marker channel: 0 markers is fine
    dict(channels=(), max_thoughts=0),
    dict(rows=1, cols=1, k=1),
    dict(rows=8, cols=8, k=5),
    dict(rows=4, cols=16, k=4),
    dict(rows=1, cols=64, k=64),
    dict(rows=2, cols=5, k=5),
    dict(memory_size=1),
    dict(max_thoughts=np.int64(2), memory_size=np.int32(4), rows=np.uint8(3)),
])
def test_good_configs_are_accepted(kwargs):
    cfg = Config(**kwargs)
    assert type(cfg.max_thoughts) is int and type(cfg.memory_size) is int and type(cfg.rows) is int
    assert cfg.n_cells <= MAX_CELLS


# --------------------------------------------------------------------------- EnvOptions


def test_env_options_defaults():
    options = EnvOptions()
    assert (options.illegal_action, options.thought_cost, options.draw_reward, options.shaping,
            options.shaping_scale, options.shaping_gamma, options.obs_mode) == ("lose", 0.0, 0.0, None, 0.1, 1.0, "flat")
    assert OPTION_KEYS == ("illegal_action", "thought_cost", "draw_reward", "shaping", "shaping_scale",
                           "shaping_gamma", "obs_mode")


def test_env_options_store_floats_and_accept_callables():
    def fn(before, thought, after):
        return 0.0

    options = EnvOptions(thought_cost=1, draw_reward=np.float32(0.5), shaping=fn, shaping_scale=np.int64(2),
                         shaping_gamma=0)
    assert type(options.thought_cost) is float and type(options.draw_reward) is float
    assert type(options.shaping_scale) is float and type(options.shaping_gamma) is float
    assert options.shaping is fn
    for kind in ("oracle", "potential", "prediction"):
        assert EnvOptions(shaping=kind).shaping == kind


BAD_OPTIONS = [
    (dict(illegal_action="ignore"), ValueError, r"illegal_action must be one of \('lose', 'raise'\)"),
    (dict(illegal_action=None), ValueError, r"illegal_action"),
    (dict(obs_mode="image"), ValueError, r"obs_mode must be one of \('flat', 'dict', 'tokens'\)"),
    (dict(thought_cost=-0.1), ValueError, r"thought_cost.*>= 0"),
    (dict(thought_cost=float("nan")), ValueError, r"thought_cost"),
    (dict(thought_cost=float("inf")), ValueError, r"thought_cost"),
    (dict(thought_cost="0.1"), TypeError, r"thought_cost"),
    (dict(thought_cost=True), TypeError, r"thought_cost"),
    (dict(draw_reward=1.5), ValueError, r"draw_reward.*\[-1.0, 1.0\]"),
    (dict(draw_reward=-1.01), ValueError, r"draw_reward"),
    (dict(shaping="bogus"), ValueError, r"shaping must be None, one of \('oracle', 'potential', 'prediction', 'world', 'world_potential'\)"),
    (dict(shaping=3), ValueError, r"shaping must be None"),
    (dict(shaping_scale=-1.0), ValueError, r"shaping_scale"),
    (dict(shaping_scale="big"), TypeError, r"shaping_scale"),
    (dict(shaping_gamma=1.5), ValueError, r"shaping_gamma.*\[0.0, 1.0\]"),
    (dict(shaping_gamma=-0.5), ValueError, r"shaping_gamma"),
]


@pytest.mark.parametrize("kwargs, error, pattern", BAD_OPTIONS, ids=[str(c[0]) for c in BAD_OPTIONS])
def test_bad_env_options_raise_naming_the_argument(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        EnvOptions(**kwargs)


# --------------------------------------------------------------------------- the checks themselves


def test_check_helpers():
    assert check_int("n", np.int16(4), 1) == 4 and type(check_int("n", np.int16(4), 1)) is int
    with pytest.raises(ValueError, match=r"n must be an int >= 2, got 1"):
        check_int("n", 1, 2)
    with pytest.raises(TypeError, match=r"n must be an int >= 0, got 1.0 of type float"):
        check_int("n", 1.0, 0)
    assert check_real("x", 1, 0.0, 1.0) == 1.0 and type(check_real("x", 1, 0.0, 1.0)) is float
    with pytest.raises(ValueError, match=r"x must be a real number in \[0.0, 1.0\], got 2"):
        check_real("x", 2, 0.0, 1.0)
    with pytest.raises(ValueError, match=r"x must be a real number >= 0.0"):
        check_real("x", -math.inf, 0.0)
    assert check_choice("c", "b", ("a", "b")) == "b"
    with pytest.raises(ValueError, match=r"c must be one of \('a', 'b'\), got 'z'"):
        check_choice("c", "z", ("a", "b"))
