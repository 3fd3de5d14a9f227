"""Replay files are input: every malformed file is a ``ValueError`` ``"line N: ..."`` (the CLI: exit 2, one
line), what a file may ask for is bounded, and the page escapes every value that reaches it."""

from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser

import gymnasium
import markupsafe
import numpy as np
import pytest

import tttthought_env  # noqa: F401
from tttthought_env.cli import main as cli_main
from tttthought_env.replay import (MAX_FILE_BYTES, RecordEpisode, episode_frames, load_episode, render_html,
                                   replay_file, write_html)
from tttthought_env.replay.schema import MAX_DEPTH, MAX_LINE_BYTES

HOSTILE = ['"><img src=x onerror=alert(1)>', "</script><script>alert(1)</script>", "<svg/onload=alert(1)>",
           "' onmouseover='alert(1)", "{{ 7*7 }}{% raw %}", "\u2028\u2029\x00"]


@pytest.fixture(scope="module")
def episode(tmp_path_factory):
    """A recorded Gymnasium episode with thoughts, replies and an ending: its path and its lines."""
    folder = tmp_path_factory.mktemp("episode")
    env = RecordEpisode(gymnasium.make("tttthought/Full-v0", opponent="minimax", opponent_epsilon=0.0,
                                       shaping="oracle"), folder)
    base = env.unwrapped
    env.reset(seed=3)
    for channel, arg in (("propose", 4), ("negate", 0), ("marker", 1), ("move", 4)):
        env.step(base.encode_action(channel, arg))
    rng, done = np.random.default_rng(0), False
    while not done:
        cells = np.flatnonzero(base.game.board == 0)
        _, _, terminated, truncated, _ = env.step(int(rng.choice(cells)))
        done = terminated or truncated
    env.close()
    path = env.paths[-1]
    lines = [json.loads(text) for text in path.read_text().splitlines()]
    assert len(lines) >= 7 and lines[6]["kind"] == "move"
    return path, lines


def _dump(lines) -> bytes:
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


WRONG_VALUES = [None, True, -1, 10 ** 9, 10 ** 30, 1.5, "x", [], {}, [[1]], {"a": 1}, -(10 ** 19)]


def _variants(lines) -> list[tuple[str, bytes]]:
    """Many malformed files derived from a valid one."""
    good = _dump(lines)
    out: list[tuple[str, bytes]] = [
        ("empty", b""), ("blank", b"\n\n  \n"), ("not json", b"not json\n"), ("a list", b"[1, 2]\n"),
        ("a number", b"3\n"), ("null", b"null\n"), ("non-UTF-8", b"\xff\xfe\x00garbage\n"),
        ("non-UTF-8 in a string", good.replace(b'"agent"', b'"ag\xe9nt"', 1)),
        ("missing header", _dump(lines[1:])), ("only steps twice", _dump(lines[1:] + lines[1:])),
        ("header twice", _dump([lines[0]] + lines)), ("extra steps", _dump(lines + lines[1:])),
        ("step repeated", _dump(lines[:3] + [lines[2]] + lines[3:])),
        ("deep nesting", b'{"type":"reset","x":' + b"[" * 100000 + b"]" * 100000 + b"}\n"),
        ("nesting over the bound", _dump([{**lines[0], "x": json.loads("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))},
                                          *lines[1:]])),
        ("NaN reward", good.replace(b'"reward": ', b'"reward": NaN, "r0": ', 1)),
        ("Infinity reward", good.replace(b'"reward": ', b'"reward": Infinity, "r0": ', 1)),
        ("-Infinity", good.replace(b'"reward": ', b'"reward": -Infinity, "r0": ', 1)),
        ("huge reward", good.replace(b'"reward": ', b'"reward": 1e308, "r0": ', 1)),
        ("a 5000-digit int", good.replace(b'"seed": 3', b'"seed": ' + b"9" * 5000, 1)),
        ("long line", _dump([lines[0], {**lines[1], "x": "a" * MAX_LINE_BYTES}, *lines[2:]])),
    ]
    for cut in (1, len(good) // 3, len(good) // 2, len(good) - 2):
        out.append((f"truncated at {cut}", good[:cut]))
    for number, text in enumerate(good.splitlines()):
        out.append((f"line {number + 1} truncated", b"\n".join(good.splitlines()[:number] + [text[: len(text) // 2]])))

    def edited(name, index, key, value):
        changed = copy.deepcopy(lines)
        if value is KeyError:
            changed[index].pop(key, None)
        else:
            changed[index][key] = value
        out.append((f"{name}: line {index + 1} {key}={value!r:.40}", _dump(changed)))

    header, step = lines[0], lines[1]
    for key in [k for k in header if k != "config"] + ["config"]:
        for value in WRONG_VALUES + [KeyError]:
            if value is KeyError and key in ("env_id", "names", "seed", "agent", "opponent_move", "thoughts_left",
                                             "to_move", "winner", "board", "stores"):
                continue  # may be absent
            if value is None and key in ("env_id", "names", "seed", "opponent_move"):
                continue  # may be null
            edited("header", 0, key, value)
    for key in header["config"]:
        for value in WRONG_VALUES + ["game", 10 ** 7]:
            changed = copy.deepcopy(lines)
            changed[0]["config"][key] = value
            if value is None and key == "memory_size":
                continue
            out.append((f"config {key}={value!r:.40}", _dump(changed)))
    for settings in ({"num_markers": 10 ** 7}, {"rows": 10 ** 9}, {"rows": 10 ** 9, "cols": 10 ** 9},
                     {"memory_size": 10 ** 9}, {"max_thoughts": 10 ** 7}, {"k": 10 ** 9}, {"unknown": 1},
                     {"channels": "propose"}, {"channels": ["think"]}, {"persist": "forever"}):
        changed = copy.deepcopy(lines)
        changed[0]["config"].update(settings)
        out.append((f"config {settings}", _dump(changed)))
    for index in (1, len(lines) - 1):
        for key in list(step):
            for value in WRONG_VALUES + ["move", KeyError]:
                if value is KeyError and key not in ("type", "player", "action", "board", "stores"):
                    continue
                if value is None and key in ("opponent_move", "thought", "outcome", "reward_parts"):
                    continue
                edited("step", index, key, value)
        for action in (-1, -(10 ** 12), 38, 10 ** 12, 2 ** 64):
            edited("action", index, "action", action)
    edited("mask of bools that are strings", 1, "mask", ["1"] * len(step["mask"]))
    edited("stores nested", 1, "stores", [[["+", [4]]], []])
    edited("stores huge", 1, "stores", [[["+", 1]] * 10 ** 5, []])
    edited("reward parts", 1, "reward_parts", {"<b>": 1.0})
    edited("names", 0, "names", {"0": "a" * 10 ** 4, "1": "O"})
    edited("names key", 0, "names", {"2": "x"})
    return out


#: Variants whose changed value is a valid one (a string env id, another seed, an outcome of any name...).
VALID_CHANGES = re.compile(r".*(env_id='x'|names=\{\}|seed=-?\d+|winner=-1|persist='game'|reward=(-1|1\.5)"
                           r"|reward_parts=\{\}|truncated=True|terminated=True|outcome=.*|line 7 kind='move')$")


def test_every_malformed_file_is_a_value_error_naming_its_line(episode, tmp_path):
    path, lines = episode
    assert len(episode_frames(load_episode(path))) > len(lines)  # the valid file replays
    variants, accepted = _variants(lines), []
    assert len(variants) > 300
    for number, (name, data) in enumerate(variants):
        bad = tmp_path / f"bad{number}.jsonl"
        bad.write_bytes(data)
        try:
            episode_frames(load_episode(bad))
        except ValueError as err:
            assert re.match(r"(line \d+: |the file has)", str(err)), (name, str(err))
            assert len(str(err)) < 600 and "\n" not in str(err), (name, str(err)[:300])
        except Exception as err:  # noqa: BLE001 - any other type is the failure this test looks for
            pytest.fail(f"{name}: {type(err).__name__}: {err}"[:400])
        else:
            accepted.append(name)
    assert all(VALID_CHANGES.match(name) for name in accepted), [n for n in accepted if not VALID_CHANGES.match(n)]
    assert len(accepted) < len(variants) / 10


def test_the_cli_answers_malformed_files_with_one_line(episode, tmp_path, capsys):
    path, lines = episode
    for number, (name, data) in enumerate(v for v in _variants(lines)[::7] if not VALID_CHANGES.match(v[0])):
        bad = tmp_path / f"bad{number}.jsonl"
        bad.write_bytes(data)
        capsys.readouterr()
        assert cli_main(["replay", str(bad), "--html", str(tmp_path / "out.html")]) == 2, name
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("tttthought replay: error: "), (name, err)
        assert "line " in err or "the file has" in err, (name, err)
    assert not (tmp_path / "out.html").exists()
    assert not list(tmp_path.glob(".*.part"))


def test_a_file_bigger_than_the_bound_is_refused_unread(episode, tmp_path):
    _, lines = episode
    big = tmp_path / "big.jsonl"
    with big.open("wb") as fh:
        fh.write(_dump(lines[:1]))
        fh.seek(MAX_FILE_BYTES + 10)
        fh.write(b"\n")
    with pytest.raises(ValueError, match=f"at most {MAX_FILE_BYTES}"):
        load_episode(big)


def test_no_more_steps_than_the_episode_bound(tmp_path):
    from tttthought_env.config import Config
    from tttthought_env.layout import layout_for

    bound = layout_for(Config()).max_episode_moves_and_thoughts
    header = {"type": "reset", "format": "tttthought-episode/1", "config": Config().as_dict() | {"channels": [
        "propose", "negate", "forget", "marker"]}}
    step = {"type": "step", "player": 0, "action": 0, "board": [0] * 9, "stores": [[], []]}
    path = tmp_path / "long.jsonl"
    path.write_bytes(_dump([header] + [step] * (bound + 5)))
    with pytest.raises(ValueError, match=f"line {bound + 2}: more step lines than the longest episode .*\\({bound}\\)"):
        load_episode(path)


def test_a_step_after_the_end_is_refused(episode, tmp_path):
    path, lines = episode
    last = copy.deepcopy(lines[-1])
    last["t"] = len(lines)
    bad = tmp_path / "after.jsonl"
    bad.write_bytes(_dump(lines + [last]))
    with pytest.raises(ValueError, match=f"line {len(lines) + 1}: a step after the game has ended"):
        episode_frames(load_episode(bad))


def test_replay_refuses_to_overwrite_its_input(episode, tmp_path, capsys):
    path, _ = episode
    copy_ = tmp_path / "ep.html"
    copy_.write_bytes(path.read_bytes())
    before = copy_.read_bytes()
    for argv in (["--html", str(copy_)], ["--gif", str(copy_)], ["--gif", str(tmp_path / "." / "ep.html")]):
        assert cli_main(["replay", str(copy_), *argv]) == 2
        assert "is the episode file itself" in capsys.readouterr().err
    assert copy_.read_bytes() == before
    with pytest.raises(ValueError, match="both be written"):
        replay_file(path, gif=tmp_path / "x", html_path=tmp_path / "x")


# ------------------------------------------------------------------------------- the page
def _hostile_lines(lines, text):
    """Lines with ``text`` in every field that the schema lets through to the page, and others it refuses."""
    changed = copy.deepcopy(lines)
    changed[0]["env_id"] = text
    changed[0]["names"] = {"0": text, "1": text + "O"}
    changed[0]["extra"] = text
    for line in changed[1:]:
        line["note"] = text
        line["outcome"] = text
    return changed


class _Structure(HTMLParser):
    """The tags of a page with their attribute names, and the text of its scripts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, tuple[str, ...]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, tuple(sorted(name for name, _ in attrs))))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def _structure(page: str) -> _Structure:
    parser = _Structure()
    parser.feed(page)
    return parser


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_reach_the_page_only_escaped(episode, tmp_path, text):
    _, lines = episode
    path, benign = tmp_path / "hostile.jsonl", tmp_path / "benign.jsonl"
    path.write_bytes(_dump(_hostile_lines(lines, text)))
    benign.write_bytes(_dump(_hostile_lines(lines, "benign")))
    page = write_html(path, tmp_path / "hostile.html").read_text(encoding="utf-8")
    expected = _structure(write_html(benign, tmp_path / "benign.html").read_text(encoding="utf-8"))
    seen = _structure(page)
    assert seen.tags == expected.tags, "the file's strings added or changed tags or attributes"
    assert seen.scripts == expected.scripts and page.count("<script") == 1
    assert "onerror=" not in page.replace("onerror=alert(1)&gt;", "") and "<img" not in page and "<svg" not in page
    assert str(markupsafe.escape(text)) in page  # shown, as text: in the title, the names, the captions
    assert "{{" not in text or "49" not in page.split("<h1>")[1].split("</h1>")[0]  # the file is not a template


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_in_fields_the_schema_refuses(episode, tmp_path, text):
    _, lines = episode
    refused = 0
    fields = [(0, "format"), (0, "type"), (0, "seed"), (0, "opponent_move"), (0, "agent"), (1, "kind"), (1, "arg"),
              (1, "thought"), (1, "player"), (1, "action"), (1, "reward"), (1, "mask"), (1, "board"),
              (1, "stores"), (1, "thoughts_left"), (1, "to_move"), (1, "winner"), (1, "opponent_move"),
              (1, "terminated"), (1, "illegal_action"), (1, "t"), (1, "type")]
    for index, key in fields:
        changed = copy.deepcopy(lines)
        changed[index][key] = text
        path = tmp_path / f"{key}.jsonl"
        path.write_bytes(_dump(changed))
        with pytest.raises(ValueError, match=r"line \d+: "):
            render_html(load_episode(path))
        refused += 1
    for key in ("rows", "channels", "persist", "memory_size"):
        changed = copy.deepcopy(lines)
        changed[0]["config"][key] = text
        path = tmp_path / f"config-{key}.jsonl"
        path.write_bytes(_dump(changed))
        with pytest.raises(ValueError, match="line 1: 'config'"):
            load_episode(path)
    changed = copy.deepcopy(lines)
    changed[1]["reward_parts"] = {text: 1.0}
    changed[1]["stores"] = [[[text, 1]], []]
    path = tmp_path / "parts.jsonl"
    path.write_bytes(_dump(changed))
    with pytest.raises(ValueError, match="line 2: "):
        load_episode(path)
    assert refused == len(fields)


# A hostile page in a real browser: tests/tttthought_env/replay/test_page_browser.py.
