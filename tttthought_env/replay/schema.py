"""The schema of an episode file: a replay file is input, possibly from someone else, so each line is checked
before anything is built from it, and a bad file is a ``ValueError`` ``"line N: what is wrong"``.

What a file may ask for is bounded: at most :data:`MAX_FILE_BYTES` bytes and :data:`MAX_LINE_BYTES` a line,
nesting at most :data:`MAX_DEPTH` deep, a config within :class:`~tttthought_env.config.Config`'s limits, and
no more step lines than the episode bound ``layout.max_episode_moves_and_thoughts`` (every move of both
players, each after at most ``max_thoughts`` thoughts). Keys the schema does not know are kept and never
used; every key it knows must have its type and range.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from typing import Any

from tttthought_env.config import CONFIG_KEYS, Config
from tttthought_env.layout import Layout, layout_for
from tttthought_env.replay.record import FORMAT

#: The largest episode file read (the longest episode of the largest config fits many times over).
MAX_FILE_BYTES = 16 * 2 ** 20
#: The longest line read.
MAX_LINE_BYTES = 256 * 2 ** 10
#: The deepest nesting of lists and objects in a line (a recorded line nests 3 deep).
MAX_DEPTH = 8
#: The longest string in a name, env id or outcome.
MAX_TEXT = 200
#: The largest absolute value of a reward or one of its parts.
MAX_REWARD = 1e6
#: The parts a reward may be split into (``reward_parts_of``).
REWARD_PARTS = ("game", "shaping", "cost")
STORE_SIGNS = ("+", "-", "#")

Record = dict[str, Any]


class _Bad(ValueError):
    """A schema error without its line number (added by the caller)."""


def shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _reject_constant(name: str) -> Any:
    raise _Bad(f"{name} is not a number JSON allows")


def _depth_ok(value: Any) -> bool:
    """Whether ``value`` nests lists and objects at most :data:`MAX_DEPTH` deep (iteratively: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            if depth > MAX_DEPTH:
                return False
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return True


def parse_line(data: bytes) -> Record:
    """One line as a JSON object; ``_Bad`` if it is too long, not UTF-8, not JSON or nested too deep."""
    if len(data) > MAX_LINE_BYTES:
        raise _Bad(f"longer than {MAX_LINE_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _Bad(f"not UTF-8 text (byte {err.start})") from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise _Bad(f"not JSON ({err.msg} at column {err.colno})") from None
    except RecursionError:
        raise _Bad(f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as err:  # NaN/Infinity, or an integer of more digits than Python converts
        raise _Bad(f"not JSON this format accepts ({err})") from None
    if not isinstance(value, dict):
        raise _Bad(f"not a JSON object but {type(value).__name__} {shown(value)}")
    if not _depth_ok(value):
        raise _Bad(f"nested deeper than {MAX_DEPTH} levels")
    return value


def read_lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, bytes]]:
    """The non-blank lines of a file with their numbers (from 1), after checking its size."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > MAX_FILE_BYTES:
            raise ValueError(f"the file has {size} bytes; an episode file has at most {MAX_FILE_BYTES}")
        data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:  # pragma: no cover - a file that grew while read
        raise ValueError(f"the file has more than {MAX_FILE_BYTES} bytes; an episode file has at most that")
    for number, line in enumerate(data.split(b"\n"), 1):
        if line.strip():
            yield number, line


# ------------------------------------------------------------------------------- values
def _int(record: Record, key: str, low: int, high: int, *, required: bool = False,
         nullable: bool = False) -> int | None:
    """``record[key]`` as an int in ``[low, high]`` (``None`` if absent or, with ``nullable``, null)."""
    if key not in record:
        if required:
            raise _Bad(f"has no {key!r}")
        return None
    value = record[key]
    if value is None and nullable:
        return None
    if type(value) is not int:
        raise _Bad(f"{key!r} must be an int in [{low}, {high}]{' or null' if nullable else ''}, got {shown(value)}")
    if not low <= value <= high:
        raise _Bad(f"{key!r} must be an int in [{low}, {high}], got {shown(value)}")
    return value


def _real(key: str, value: Any) -> float:
    if type(value) not in (int, float) or not math.isfinite(value) or abs(value) > MAX_REWARD:
        raise _Bad(f"{key!r} must be a finite number of size at most {MAX_REWARD:g}, got {shown(value)}")
    return float(value)


def _text(key: str, value: Any, nullable: bool = True) -> None:
    if value is None and nullable:
        return
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise _Bad(f"{key!r} must be a string of at most {MAX_TEXT} characters{' or null' if nullable else ''}, "
                   f"got {shown(value)}")


def _bool(record: Record, key: str) -> None:
    if key in record and type(record[key]) is not bool:
        raise _Bad(f"{key!r} must be true or false, got {shown(record[key])}")


def _int_list(record: Record, key: str, length: int, low: int, high: int) -> None:
    if key not in record:
        return
    value = record[key]
    if (not isinstance(value, list) or len(value) != length
            or any(type(v) is not int or not low <= v <= high for v in value)):
        raise _Bad(f"{key!r} must be a list of {length} ints in [{low}, {high}], got {shown(value)}")


def _entry_ok(entry: Any, args: int) -> bool:
    return (isinstance(entry, list) and len(entry) == 2 and entry[0] in STORE_SIGNS and type(entry[1]) is int
            and 0 <= entry[1] < args)


def _stores(stores: Any, limit: int, args: int) -> None:
    if not (isinstance(stores, list) and len(stores) == 2 and all(
            isinstance(store, list) and len(store) <= limit and all(_entry_ok(e, args) for e in store)
            for store in stores)):
        raise _Bad(f"'stores' must be two lists of at most {limit} [sign, int] entries (sign one of "
                   f"{STORE_SIGNS}), got {shown(stores)}")


def _snapshot(record: Record, layout: Layout, required: bool) -> None:
    """The snapshot keys of a line: their shapes (their values are checked against the rebuilt game)."""
    config = layout.config
    n = config.n_cells
    for key in ("board", "stores"):
        if required and key not in record:
            raise _Bad(f"has no {key!r} snapshot")
    _int_list(record, "board", n, 0, 2)
    if "stores" in record:
        _stores(record["stores"], min(config.memory_size or n, 2 * n + config.num_markers),
                max(n, config.num_markers))
    _int_list(record, "thoughts_left", 2, 0, config.max_thoughts)
    _int(record, "to_move", 0, 1)
    _int(record, "winner", -1, 2)


# -------------------------------------------------------------------------------- lines
def _layout(settings: Any) -> Layout:
    if not isinstance(settings, dict):
        raise _Bad(f"'config' must be an object of the game's settings, got {shown(settings)}")
    unknown = sorted(str(key) for key in settings if key not in CONFIG_KEYS)
    if unknown:
        raise _Bad(f"'config' has unknown keys {shown(unknown)}; allowed: {CONFIG_KEYS}")
    channels = settings.get("channels", ())
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise _Bad(f"'config' 'channels' must be a list of channel names, got {shown(channels)}")
    try:
        layout = layout_for(Config.from_settings(settings))
    except (TypeError, ValueError, OverflowError) as err:
        raise _Bad(f"'config' is not a valid config: {err}") from None
    return layout


def check_header(record: Record) -> Layout:
    """The layout of a valid reset line; ``_Bad`` says what is wrong with it."""
    if record.get("type") != "reset" or record.get("format") != FORMAT:
        raise _Bad(f"not a reset line of format {FORMAT!r} (an episode file starts with one)")
    layout = _layout(record.get("config"))
    names = record.get("names")
    if names is not None:
        if not isinstance(names, dict) or any(key not in ("0", "1") for key in names):
            raise _Bad(f"'names' must be an object with keys \"0\" and \"1\", got {shown(names)}")
        for key, name in names.items():
            _text(f"names {key}", name)
    _text("env_id", record.get("env_id"))
    _int(record, "seed", -2 ** 63, 2 ** 64 - 1, nullable=True)
    _int(record, "opponent_move", 0, layout.config.n_cells - 1, nullable=True)
    _int(record, "agent", 0, 1)
    _int(record, "human", 0, 1)
    _snapshot(record, layout, required=False)
    return layout


def check_step(record: Record, index: int, layout: Layout) -> None:
    """A step line (``index`` its position, the reset line 0); ``_Bad`` says what is wrong with it."""
    if record.get("type") != "step":
        raise _Bad(f"not a step line (its 'type' is {shown(record.get('type'))})")
    _int(record, "t", index, index)
    _int(record, "player", 0, 1, required=True)
    action = _int(record, "action", 0, layout.action_size - 1, required=True)
    kind, arg = layout.decode[action]  # type: ignore[index]
    for key, expected in (("kind", kind), ("arg", arg), ("thought", None if kind == "move" else f"{kind} {arg}")):
        if key in record and record[key] != expected:
            raise _Bad(f"{key!r} is {shown(record[key])}, but action {action} is {kind} {arg}")
    _rewards(record)
    _mask(record, layout)
    _int(record, "opponent_move", 0, layout.config.n_cells - 1, nullable=True)
    for key in ("terminated", "truncated", "illegal_action"):
        _bool(record, key)
    outcome = record.get("outcome")
    if type(outcome) is int:
        _int(record, "outcome", -2 ** 31, 2 ** 31)
    else:
        _text("outcome", outcome)
    _snapshot(record, layout, required=True)


def _rewards(record: Record) -> None:
    if "reward" in record:
        _real("reward", record["reward"])
    parts = record.get("reward_parts")
    if parts is not None:
        if not isinstance(parts, dict) or any(key not in REWARD_PARTS for key in parts):
            raise _Bad(f"'reward_parts' must be an object with keys from {REWARD_PARTS}, got {shown(parts)}")
        for key, value in parts.items():
            _real(f"reward_parts {key}", value)


def _mask(record: Record, layout: Layout) -> None:
    if "mask" in record:
        mask = record["mask"]
        if (not isinstance(mask, list) or len(mask) != layout.action_size
                or any(v not in (0, 1) or type(v) not in (int, bool) for v in mask)):
            raise _Bad(f"'mask' must be a list of {layout.action_size} zeros and ones, got {shown(mask)}")


def check_records(records: list[Record]) -> Layout:
    """The layout of a valid episode's lines (the reset line first); ``ValueError`` ``"line N: ..."`` else.
    Line numbers count the records (a file's blank lines are not counted here; :func:`load_records` counts them)."""
    return _check(list(enumerate(records, 1)))


def _check(numbered: list[tuple[int, Record]]) -> Layout:
    if not numbered:
        raise ValueError("line 1: the file is empty (an episode file starts with a reset line)")
    number, header = numbered[0]
    try:
        if not isinstance(header, dict):
            raise _Bad(f"not a JSON object but {type(header).__name__}")
        layout = check_header(header)
        bound = layout.max_episode_moves_and_thoughts
        if len(numbered) - 1 > bound:
            number = numbered[bound + 1][0]
            raise _Bad(f"more step lines than the longest episode of this config ({bound})")
        for index, (number, record) in enumerate(numbered[1:], 1):
            if not isinstance(record, dict):
                raise _Bad(f"not a JSON object but {type(record).__name__}")
            check_step(record, index, layout)
    except _Bad as err:
        raise ValueError(f"line {number}: {err}") from None
    return layout


def load_records(path: str | os.PathLike[str]) -> list[Record]:
    """The lines of an episode file, each checked against the schema; ``ValueError`` ``"line N: ..."`` if not.
    At most the episode bound of step lines is parsed."""
    numbered: list[tuple[int, Record]] = []
    bound: int | None = None
    lines = read_lines(path)
    for number, data in lines:
        try:
            numbered.append((number, parse_line(data)))
            if bound is None:
                bound = check_header(numbered[0][1]).max_episode_moves_and_thoughts
            elif len(numbered) - 1 > bound:
                raise _Bad(f"more step lines than the longest episode of this config ({bound})")
        except _Bad as err:
            raise ValueError(f"line {number}: {err}") from None
    _check(numbered)
    return [record for _, record in numbered]
