"""``cosim app``: starts Streamlit on the explorer's entry script, bound to this machine unless told otherwise,
with the results folder handed over; a folder without results and a bad port exit 2 with the reason."""

import subprocess
import sys

from cosim import cli
from cosim.api import explorer_script


def test_the_command_starts_streamlit_on_localhost(monkeypatch, results_folder):
    calls = []
    monkeypatch.setattr(cli.os, "execve", lambda path, command, env: calls.append((path, command, env)))
    assert cli.main(["app", "--results", str(results_folder), "--port", "8123"]) == 0
    (path, command, env), = calls
    assert path == sys.executable
    assert command[:5] == [sys.executable, "-m", "streamlit", "run", str(explorer_script())]
    options = dict(zip(command[5::2], command[6::2]))
    assert options["--server.address"] == "127.0.0.1" and options["--server.port"] == "8123"
    assert options["--server.headless"] == "true"
    assert env["COSIM_APP_RESULTS"] == str(results_folder)
    assert explorer_script().name == "main.py" and explorer_script().parent.name == "app"


def test_a_folder_without_results_exits_2_without_traceback(tmp_path):
    run = subprocess.run([sys.executable, "-m", "cosim.cli", "app", "--results", str(tmp_path)],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert "no results.parquet" in run.stderr and "Traceback" not in run.stderr


def test_a_bad_port_exits_2(capsys):
    assert cli.main(["app", "--port", "0"]) == 2
    assert "--port must be between 1 and 65535" in capsys.readouterr().err
