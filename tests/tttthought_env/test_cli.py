"""The ``tttthought`` command line: help, tasks (and the generated docs/tasks.md), play, bench, main, baselines hook."""

from __future__ import annotations

import errno
import importlib.util
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tttthought_env import cli
from tttthought_env.play import PlayError, play

ROOT = Path(__file__).resolve().parents[2]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


# ------------------------------------------------------------------------------ help
def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for command in ("main", "play", "replay", "bench", "tasks", "demo", "train", "eval", "grid", "report"):
        assert f"    {command}" in text


def test_help_imports_no_heavy_library():
    code = ("import sys; from tttthought_env.cli import build_parser; build_parser().format_help(); "
            "print(sorted(m for m in ('torch', 'sb3_contrib', 'stable_baselines3', 'matplotlib') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_version(capsys):
    import tttthought_env

    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert tttthought_env.__version__ in capsys.readouterr().out


def test_unknown_arguments_are_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["tasks", "--nope"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --nope" in capsys.readouterr().err


# ----------------------------------------------------------------------------- tasks
def test_tasks_table(capsys):
    from tttthought_env.registration import TASKS

    code, out, _ = run_cli(capsys, "tasks")
    assert code == 0
    for task_id in TASKS:
        assert task_id in out
    code, out, _ = run_cli(capsys, "tasks", "--format", "json")
    rows = json.loads(out)
    assert [r["id"] for r in rows] == list(TASKS)
    full = next(r for r in rows if r["id"] == "tttthought/Full-v0")
    assert full["actions"] == 38 and full["longest_episode"] == 36
    code, out, _ = run_cli(capsys, "tasks", "--format", "markdown")
    assert out.startswith("| id |") and "`tttthought/Plain-v0`" in out


def test_docs_tasks_md_matches_the_generator():
    spec = importlib.util.spec_from_file_location("gen_tasks_doc", ROOT / "scripts" / "gen_tasks_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = (ROOT / "docs" / "tasks.md").read_text(encoding="utf-8")
    assert committed == module.generate(), "docs/tasks.md is stale: run python scripts/gen_tasks_doc.py"


# ------------------------------------------------------------------------------ play
def play_lines(*lines: str, **kwargs) -> tuple[list[str], str]:
    out = io.StringIO()
    outcomes = play(input=io.StringIO("".join(line + "\n" for line in lines)), output=out, **kwargs)
    return outcomes, out.getvalue()


def test_play_a_whole_game_with_thoughts():
    # Try every cell in turn: occupied ones are refused with a reason and the next line is read.
    outcomes, text = play_lines("propose 4", "+0", "negate 8", *[str(c) for c in range(9)] * 2,
                                opponent="minimax", seed=0)
    assert outcomes and outcomes[0] in ("draw", "loss")  # nobody beats minimax
    assert "you think propose 4: your store is now +4" in text
    assert "you think propose 0: your store is now +4 +0" in text
    assert "+4 +0 -8" in text
    assert "minimax (O) moves" in text
    assert "is occupied" in text
    assert "Traceback" not in text


def test_play_answers_bad_input_with_what_is_allowed():
    outcomes, text = play_lines("hello", "", "propose", "propose x", "propose 99", "forget 3", "marker 5",
                                "dance 4", "9", "-1", "help", "board", "quit", opponent="heuristic", seed=1)
    assert outcomes == ["quit"]
    assert "I did not understand 'hello'" in text
    assert "propose needs a cell number 0-8, got 'x'" in text
    assert "cell must be 0-8, got 99" in text
    assert "forget 3 is not allowed: neither +3 nor -3 is in the store" in text
    assert "marker must be 0-1, got 5" in text
    assert "I did not understand 'dance 4'" in text
    assert "cell must be 0-8, got 9" in text
    assert "propose P  (or +P)" in text  # the help lists the thoughts
    assert "Traceback" not in text


def test_play_refuses_thoughts_a_task_does_not_have_and_runs_out_of_thoughts():
    _, text = play_lines("propose 4", "quit", task="Plain-v0", opponent="random", seed=0)
    assert "the 'propose' thought is not part of this task; it has no thoughts" in text
    _, text = play_lines("propose 4", "negate 4", "quit", task="Propose-v0", opponent="random", seed=0)
    assert "the 'negate' thought is not part of this task; its thoughts are: propose" in text
    _, text = play_lines("+1", "+2", "quit", task="Propose-v0", opponent="random", seed=0)
    assert "no thoughts are left this turn" in text


def test_play_as_o_end_of_input_and_record(tmp_path):
    from tttthought_env.replay import episode_frames, load_episode

    record = tmp_path / "game.jsonl"
    outcomes, text = play_lines("+4", "4", "0", "8", "2", "6", "1", "3", "5", "7", human="O", opponent="random",
                                seed=3, record=str(record))
    assert "you are O" in text and "random (X) moves" in text
    assert outcomes[0] in ("win", "draw", "loss", "quit")
    frames = episode_frames(load_episode(record))
    assert any("you" in f.caption and "asserts +4" in f.caption for f in frames)
    _, text = play_lines(opponent="random", seed=0)  # no input at all
    assert "(end of input)" in text


def test_play_settings_errors():
    import re

    with pytest.raises(PlayError, match="unknown task"):
        play_lines(task="Nope-v0")
    with pytest.raises(PlayError, match="opponent must be one of"):
        play_lines(opponent="grandmaster")
    # A path that holds no checkpoint: the choices, with the checkpoint format (weights only, never a pickle).
    for missing in ("missing-agent.zip", "missing-agent.safetensors", "missing-agent"):
        with pytest.raises(PlayError, match=re.escape(f"or the path of a saved agent (.safetensors), got {missing!r}")):
            play_lines(opponent=missing)


def test_play_cli_reads_stdin(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("4\nquit\n"))
    code, out, _ = run_cli(capsys, "play", "--opponent", "heuristic", "--seed", "0")
    assert code == 0 and "bye" in out
    code, _, err = run_cli(capsys, "play", "--opponent", "nobody")
    assert code == 2 and "opponent must be one of" in err and "Traceback" not in err


@pytest.fixture(scope="module")
def tiny_agents(tmp_path_factory):
    sb3_contrib = pytest.importorskip("sb3_contrib")
    import gymnasium

    folder = tmp_path_factory.mktemp("agents")
    paths = {}
    for name, task in (("full", "tttthought/Full-v0"), ("plain", "tttthought/Plain-v0")):
        model = sb3_contrib.MaskablePPO("MlpPolicy", gymnasium.make(task), n_steps=64, batch_size=64, n_epochs=1,
                                        seed=0, verbose=0)
        model.learn(64)
        model.save(folder / name)
        paths[name] = str(folder / f"{name}.zip")
    return paths


def test_play_against_a_saved_agent_that_thinks(tiny_agents):
    # SB3 zips unpickle, so play refuses them unless trusted (tests/baselines/test_checkpoints.py: the hostile case).
    with pytest.raises(PlayError, match="trust-checkpoint"):
        play_lines("quit", opponent=tiny_agents["full"])
    cells = [str(c) for c in range(9)] * 2
    outcomes, text = play_lines(*cells, opponent=tiny_agents["full"], seed=0, deterministic=False, human="O",
                                trust_checkpoint=True)
    assert outcomes[0] in ("win", "draw", "loss")
    assert "agent (X) thinks:" in text  # an untrained sampling agent thinks often; its thoughts are shown
    # The task is found from the agent's spaces when none is given; a wrong one is refused with a hint.
    outcomes, _ = play_lines("quit", opponent=tiny_agents["plain"], task=None, trust_checkpoint=True)
    assert outcomes == ["quit"]
    with pytest.raises(PlayError, match="try --task tttthought/Plain-v0"):
        play_lines(opponent=tiny_agents["plain"], task="Full-v0", trust_checkpoint=True)


# ----------------------------------------------------------------------------- bench
def test_bench_says_where_the_benchmark_lives(capsys):
    for argv in (["bench"], ["bench", "--full"]):
        code, out, err = run_cli(capsys, *argv)
        assert code == 2 and "python benchmarks/bench.py" in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1
    assert (ROOT / "benchmarks" / "bench.py").exists()


# ------------------------------------------------------------------- baselines, main
def test_baselines_commands_explain_a_missing_extra(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "baselines.cli", None)
    code, _, err = run_cli(capsys, "train", "--algo", "maskable_ppo")
    assert code == 2 and "needs the baselines extra" in err and "pip install" in err


def test_baselines_commands_explain_missing_sb3(capsys, monkeypatch):
    pytest.importorskip("baselines.cli")
    monkeypatch.delitem(sys.modules, "baselines.train", raising=False)  # re-imported below, without SB3
    for name in ("stable_baselines3", "sb3_contrib"):
        monkeypatch.setitem(sys.modules, name, None)
    code, _, err = run_cli(capsys, "train", "--algo", "maskable_ppo", "--no-save")
    assert code == 2 and "needs " in err and "pip install" in err and "Traceback" not in err


def test_plugin_commands_come_from_entry_points_and_missing_ones_say_so(capsys, monkeypatch):
    # Installed: main and the baselines' commands come from the tttthought_env.commands entry points.
    assert {"main", "train", "eval", "grid", "sweep", "probe", "report"} <= set(cli.plugin_entry_points())
    # Not installed: each is still listed, and says in one line what to install.
    monkeypatch.setattr(cli, "plugin_entry_points", dict)
    for command in ("main", "train", "report"):
        code, out, err = run_cli(capsys, command, "--anything")
        assert code == 2 and "needs the baselines extra" in err and "pip install" in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1


def test_main_when_the_baselines_package_cannot_load(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "baselines.main", None)
    code, _, err = run_cli(capsys, "main")
    assert code == 2 and "needs the baselines extra" in err and ".[baselines]" in err
    assert len(err.strip().splitlines()) == 1


def test_the_env_package_never_imports_baselines():
    """Importing every module of tttthought_env, and building the CLI's help, imports no baselines module
    except through the entry points (which the help lists without importing their heavy parts)."""
    modules = sorted(".".join(path.relative_to(ROOT).with_suffix("").parts)
                     for path in (ROOT / "tttthought_env").rglob("*.py"))
    modules = [name.removesuffix(".__init__") for name in modules if not name.endswith("__main__")]
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n"
            "    importlib.import_module(name)\n"
            "print(sorted(m for m in sys.modules if m == 'baselines' or m.startswith('baselines.')))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert not (ROOT / "tttthought_env" / "bench.py").exists()  # the benchmark lives in benchmarks/


def test_main_without_sb3_is_a_clear_error(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "sb3_contrib", None)
    code, _, err = run_cli(capsys, "main", "--out", "unused")
    assert code == 2 and "needs the baselines extra (missing: sb3_contrib)" in err


def test_main_job_at_a_tiny_size(tmp_path):
    pytest.importorskip("sb3_contrib")
    pytest.importorskip("baselines.train")
    from baselines.main import run_main

    out = io.StringIO()
    result = run_main(out=tmp_path, timesteps=512, eval_games=4, progress_bar=False, stream=out,
                          hyperparams={"n_envs": 4, "n_steps": 64, "batch_size": 64, "eval_every": 256,
                                       "curve_games": 4})
    text = out.getvalue()
    for words in ("opponent", "random", "minimax", "win", "draw", "loss", "thoughts/move", "thought utility"):
        assert words in text
    for key, path in result["paths"].items():
        assert Path(path).exists() and Path(path).stat().st_size > 0, key
        assert str(path) in text
    assert Path(result["paths"]["learning_curve"]).read_bytes()[:4] == b"\x89PNG"
    assert Path(result["paths"]["replay_gif"]).read_bytes()[:3] == b"GIF"
    assert result["record"]["run"]["task"] == "tttthought/Full-v0"
    assert result["record"]["config"]["env"]["shaping"] == "potential"


# ------------------------------------------------------- one clear line, never a traceback
@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    episode = tmp_path_factory.mktemp("recorded") / "demo.jsonl"
    assert cli.main(["demo", "--record", str(episode)]) == 0
    return episode


def one_error_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def no_partial_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.endswith(".part") or p.suffix in (".gif", ".html")]


@pytest.mark.parametrize("fps", ["0", "-1", "nan", "inf", "1000"])
def test_replay_bad_fps_is_one_line(capsys, recorded, tmp_path, fps):
    code, _, err = run_cli(capsys, "replay", str(recorded), "--gif", str(tmp_path / "x.gif"), f"--fps={fps}")
    assert code == 2 and "--fps: fps must be a number in (0, 50]" in one_error_line(err)
    assert no_partial_files(tmp_path)


def test_replay_into_a_read_only_folder(capsys, recorded, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):  # root writes anyway: an output under a plain file cannot be written
            target = tmp_path / "file"
            target.write_text("")
            out = target / "x.html"
        else:
            out = folder / "x.html"
        code, _, err = run_cli(capsys, "replay", str(recorded), "--html", str(out))
    finally:
        folder.chmod(0o700)
    assert code == 2 and str(out.parent) in one_error_line(err)
    assert no_partial_files(folder)


@pytest.mark.parametrize("kind", ["gif", "html"])
def test_replay_on_a_full_disk_leaves_no_partial_file(capsys, recorded, tmp_path, monkeypatch, kind):
    from tttthought_env.replay import output

    class Full(io.BufferedWriter):
        written = 0

        def write(self, data):
            Full.written += len(data)
            if Full.written > 100:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return super().write(data)

    monkeypatch.setattr(output, "open", lambda fd, mode: Full(io.FileIO(fd, "w")), raising=False)
    out = tmp_path / f"x.{kind}"
    code, _, err = run_cli(capsys, "replay", str(recorded), f"--{kind}", str(out))
    assert code == 2 and "No space left on device" in one_error_line(err)
    assert Full.written > 100 and no_partial_files(tmp_path)


def test_replay_ctrl_c_is_130_with_one_line_and_no_partial_file(capsys, recorded, tmp_path, monkeypatch):
    from tttthought_env.replay import gif

    real = gif.frame_image
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(gif, "frame_image", interrupted)
    code, _, err = run_cli(capsys, "replay", str(recorded), "--gif", str(tmp_path / "x.gif"))
    assert code == 130 and one_error_line(err) == "tttthought replay: interrupted\n"
    assert no_partial_files(tmp_path)


def test_replay_without_pillow_says_what_to_install(capsys, recorded, tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pil(name, *args, **kwargs):
        if name == "PIL" or name.startswith("PIL."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pil)
    code, _, err = run_cli(capsys, "replay", str(recorded))  # both: nothing is written
    assert code == 2 and "pip install pillow" in one_error_line(err)
    assert not recorded.with_suffix(".gif").exists() and not recorded.with_suffix(".html").exists()
    code, out, _ = run_cli(capsys, "replay", str(recorded), "--html", str(tmp_path / "x.html"))
    assert code == 0 and (tmp_path / "x.html").exists()


def test_a_closed_pipe_exits_quietly():
    command = [sys.executable, "-m", "tttthought_env.cli", "tasks", "--format", "json"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    process.stdout.close()  # the reader is gone before anything is written
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141 and err == ""
    shell = subprocess.run(f"{sys.executable} -m tttthought_env.cli tasks --format json | head -c 10",
                           shell=True, capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert shell.stdout == "[\n  {\n    " and shell.stderr == ""


def test_ctrl_c_in_a_subprocess_is_one_line():
    code = ("import sys; from tttthought_env import cli\n"
            "def boom(args): raise KeyboardInterrupt\n"
            "cli.cmd_tasks = boom\n"
            "sys.exit(cli.main(['tasks']))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                            check=False)
    assert result.returncode == 130 and result.stderr == "tttthought tasks: interrupted\n"
