"""What makes a run record valid: an explicit schema check, and whether a record is the run that was asked for.

The grid counts a run as done only if its record file parses, passes :func:`validate_record`, and its run
config equals the requested one (:func:`same_run`); anything else is reported by path and run again.
``report`` reads records with :func:`read_record` and names and skips the bad ones.
"""

from __future__ import annotations

import json
import numbers
from pathlib import Path
from typing import Any

from baselines.train import RECORD_SCHEMA, _json_default

#: Run-config keys that name outputs or display only; they do not change a run's result, so they are not compared.
IGNORED_CONFIG_KEYS = ("save_path", "save_sb3_zip", "checkpoint_every", "progress_bar", "tensorboard")

_NUMBER = "number"
#: Per-opponent result keys and their types (see :func:`baselines.evaluate.summarize`).
RESULT_KEYS: dict[str, Any] = {
    "games": int, "win": _NUMBER, "draw": _NUMBER, "loss": _NUMBER, "draw_or_better": _NUMBER, "score": _NUMBER,
    "thoughts_per_move": _NUMBER, "thoughts_per_game": _NUMBER, "correct_thought_fraction": (_NUMBER, None),
    "judged_thoughts": int, "illegal_greedy_rate": _NUMBER, "illegal_actions": int,
}
RUN_KEYS: dict[str, Any] = {"condition": str, "algo": str, "capacity": str, "seed": int, "task": str}
TOP_KEYS: dict[str, Any] = {
    "schema": int, "run": dict, "config": dict, "versions": dict, "total_timesteps": int, "curve": list,
    "final": dict, "steps_to_threshold": (int, None), "seconds_to_threshold": (_NUMBER, None),
    "train_seconds": _NUMBER, "wall_seconds": _NUMBER,
}
CURVE_KEYS: dict[str, Any] = {"step": int, "draw_or_better": _NUMBER}


def _is(value: Any, kind: Any) -> bool:
    if isinstance(kind, tuple):
        return any(_is(value, k) for k in kind)
    if kind is None:
        return value is None
    if isinstance(value, bool):  # a bool is an int in Python, never in a record
        return kind is bool
    if kind == _NUMBER:
        return isinstance(value, numbers.Real)
    return isinstance(value, kind)


def _type_name(kind: Any) -> str:
    if isinstance(kind, tuple):
        return " or ".join(_type_name(k) for k in kind)
    return "null" if kind is None else kind if isinstance(kind, str) else kind.__name__


def _check(obj: dict, spec: dict[str, Any], where: str) -> list[str]:
    problems = []
    for key, kind in spec.items():
        if key not in obj:
            problems.append(f"{where}{key} is missing")
        elif not _is(obj[key], kind):
            problems.append(f"{where}{key} must be {_type_name(kind)}, got {type(obj[key]).__name__}")
    return problems


def validate_record(record: Any) -> list[str]:
    """The schema problems of a run record (empty when it is valid): required keys and their types."""
    if not isinstance(record, dict):
        return [f"a record must be a JSON object, got {type(record).__name__}"]
    problems = _check(record, TOP_KEYS, "")
    if problems:
        return problems
    if record["schema"] != RECORD_SCHEMA:
        return [f"schema {record['schema']} is not this version's {RECORD_SCHEMA}"]
    problems += _check(record["run"], RUN_KEYS, "run.")
    problems += _check(record["config"], {"hyperparams": dict, "eval": dict}, "config.")
    if isinstance(record["config"].get("hyperparams"), dict):
        problems += _check(record["config"]["hyperparams"], {"total_timesteps": int}, "config.hyperparams.")
    if not record["curve"]:
        problems.append("curve is empty")
    for i, point in enumerate(record["curve"]):
        problems += [f"curve[{i}] must be an object"] if not isinstance(point, dict) else _check(
            point, CURVE_KEYS, f"curve[{i}].")
    return problems + _final_problems(record)


def _final_problems(record: dict[str, Any]) -> list[str]:
    """Schema problems of ``record["final"]``: one result per opponent of the record's protocol."""
    final = record["final"]
    problems = _check(final, {"games_per_opponent": int, "thinking": bool}, "final.")
    opponents = (record["config"].get("eval") or {}).get("opponents") if isinstance(record["config"].get("eval"),
                                                                                   dict) else None
    if not isinstance(opponents, list) or not all(isinstance(o, str) for o in opponents):
        problems.append("config.eval.opponents must be a list of names")
        opponents = []
    for name in opponents:
        result = final.get(f"vs_{name}")
        if not isinstance(result, dict):
            problems.append(f"final.vs_{name} is missing")
            continue
        problems += _check(result, RESULT_KEYS, f"final.vs_{name}.")
        if not _is(final.get(f"thought_utility_{name}"), _NUMBER):
            problems.append(f"final.thought_utility_{name} must be number")
    return problems


def read_record(path: str | Path) -> tuple[dict[str, Any] | None, str | None]:
    """``(record, None)`` for a valid record file, else ``(None, what is wrong)``."""
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        return None, f"unreadable ({type(err).__name__}: {err})"
    if not text.strip():
        return None, "empty file"
    try:
        record = json.loads(text)
    except ValueError as err:
        return None, f"not valid JSON ({err})"
    problems = validate_record(record)
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        return None, "invalid record: " + "; ".join(problems[:3]) + more
    return record, None


def comparable_config(config: dict[str, Any]) -> Any:
    """A run config as JSON would store it (tuples become lists), without :data:`IGNORED_CONFIG_KEYS`."""
    kept = {key: value for key, value in config.items() if key not in IGNORED_CONFIG_KEYS}
    return json.loads(json.dumps(kept, default=_json_default))


def same_run(record: dict[str, Any], run_config: dict[str, Any]) -> str | None:
    """``None`` when the record's run config equals ``run_config`` (ignoring output-only keys), else how they
    differ (the first few keys)."""
    have, want = comparable_config(record["config"]), comparable_config(run_config)
    if have == want:
        return None
    differ = sorted(key for key in set(have) | set(want) if have.get(key) != want.get(key))
    details = []
    for key in differ[:3]:
        if isinstance(have.get(key), dict) and isinstance(want.get(key), dict):
            sub = sorted(k for k in set(have[key]) | set(want[key]) if have[key].get(k) != want[key].get(k))
            details.append(", ".join(f"{key}.{k}: record {have[key].get(k)!r:.40}, requested {want[key].get(k)!r:.40}"
                                     for k in sub[:3]))
        else:
            details.append(f"{key}: record {have.get(key)!r:.40}, requested {want.get(key)!r:.40}")
    return "run config differs from the requested one (" + "; ".join(details) + ")"


def check_record(path: str | Path, run_config: dict[str, Any]) -> str | None:
    """``None`` when ``path`` holds a valid record of ``run_config``; else why it does not count (``"missing"``
    when there is no file)."""
    path = Path(path)
    if not path.exists():
        return "missing"
    record, problem = read_record(path)
    if record is None:
        return problem
    return same_run(record, run_config)
