"""Golden trajectories: the envs give, byte for byte, what the recorded code gave for the same actions.

``tests/golden/trajectories.json`` was written by ``scripts/record_golden.py`` from a fixed commit (named
in the file). Each case is replayed here through the public API on the ``tttthought_env`` at hand, with
the recorded actions, and its hashes are compared: observations, masks, rewards and flags in
``test_trajectories_match``; infos, which may change by design, separately in ``test_infos_match``.
After an intended change of behaviour, re-record (see the script) and say why in the commit. To replay on
another copy of the package, put it on ``PYTHONPATH`` and pass ``python -P`` (else ``python -m pytest``
imports the ``tttthought_env`` of the current directory first); failures name the package file replayed.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parent / "golden"
GROUPS = ("gymnasium", "pettingzoo", "vector")
SHOWN = 15  # failures listed per group


def _load_replay():
    spec = importlib.util.spec_from_file_location("replay_golden", GOLDEN / "replay_golden.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("replay_golden", module)
    spec.loader.exec_module(module)
    return module


replay = _load_replay()


@functools.lru_cache(maxsize=1)
def golden() -> dict:
    return json.loads((GOLDEN / "trajectories.json").read_text())


@functools.lru_cache(maxsize=None)
def replayed(group: str) -> list[tuple[dict, dict]]:
    """Every case of ``group`` with the result of replaying its actions now (computed once per group)."""
    return [(case, replay.run_case(case, case["actions"])) for case in golden()["cases"] if case["group"] == group]


def _describe(case: dict, result: dict, hashes: str) -> str:
    index = replay.first_difference(case[hashes], result[hashes])
    where = "no single step differs (the totals do)" if index is None else (
        f"first differing step {index}: {result['labels'][index]}" if index < len(result["labels"])
        else f"first differing step {index}: the replay stopped after {len(result['labels'])} steps")
    text = f"  {case['name']}: {where}; steps recorded {case['steps']}, replayed {result['steps']}"
    if "error" in result:
        text += f"; the env raised {result['error']}"
    return text


def _check(group: str, digest: str, hashes: str, what: str) -> None:
    import tttthought_env

    results = replayed(group)
    assert results, f"no {group} cases in {GOLDEN / 'trajectories.json'}"
    bad = [_describe(case, result, hashes) for case, result in results if result[digest] != case[digest]]
    if bad:
        more = f"\n  ... and {len(bad) - SHOWN} more" if len(bad) > SHOWN else ""
        pytest.fail(f"{what}: {len(bad)} of {len(results)} {group} cases differ from the recording "
                    f"(commit {golden()['recorded_with'].get('commit')}) on {tttthought_env.__file__}:\n"
                    + "\n".join(bad[:SHOWN]) + more, pytrace=False)


def test_golden_file() -> None:
    data = golden()
    assert data["format"] == replay.FORMAT
    counts = {group: sum(case["group"] == group for case in data["cases"]) for group in GROUPS}
    assert all(counts.values()), counts
    assert len({case["name"] for case in data["cases"]}) == len(data["cases"]), "case names must be unique"


@pytest.mark.parametrize("group", GROUPS)
def test_trajectories_match(group: str) -> None:
    """Observations, masks, rewards, terminated/truncated (and their types), step for step."""
    _check(group, "sha256", "step_hashes", "trajectories changed")


@pytest.mark.parametrize("group", GROUPS)
def test_infos_match(group: str) -> None:
    """The infos' scalar items (reward split, step kind, outcome, thoughts, illegal_action, ...)."""
    _check(group, "info_sha256", "info_step_hashes", "infos changed")
