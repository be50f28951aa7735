"""The nagios probe running real plugins from monitoring-plugins-basic and misbehaving scripts."""

from __future__ import annotations

from pathlib import Path

import pytest
from console.core.clock import FakeClock, SystemClock
from console.probes.base import ProbeOutcome, ProbeResult
from console.probes.nagios import NagiosProbeConfig, probe_nagios

from tests.unit.probes.support import LiveServer, process_alive, run_async

PLUGINS = Path("/usr/lib/nagios/plugins")


def plugin(name: str) -> str:
    path = PLUGINS / name
    assert path.exists(), f"{path} is missing: install monitoring-plugins-basic"
    return str(path)


def run(
    *command: str,
    timeout_s: float = 10,
    clock: FakeClock | SystemClock | None = None,
    **options: object,
) -> ProbeResult:
    config = NagiosProbeConfig(list(command), timeout_s=timeout_s, **options)  # type: ignore[arg-type]
    return run_async(probe_nagios(config, clock or FakeClock()))


def script(folder: Path, name: str, body: str, mode: int = 0o755) -> str:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(mode)
    return str(path)


# ---- real plugins ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "state", "outcome"),
    [
        (0, "OK", ProbeOutcome.UP),
        (1, "WARNING", ProbeOutcome.UP),
        (2, "CRITICAL", ProbeOutcome.DOWN),
        (3, "UNKNOWN", ProbeOutcome.UNKNOWN),
    ],
)
def test_check_dummy_each_exit_code(code: int, state: str, outcome: ProbeOutcome) -> None:
    clock = FakeClock()
    result = run(plugin("check_dummy"), str(code), "the text, with spaces", clock=clock)
    assert result.ok_state is outcome
    assert result.reason == f"{state}: the text, with spaces"
    assert result.metrics == {"state": float(code)}
    assert result.details["exit_code"] == str(code) and result.details["state"] == state
    assert result.started_at == clock.now()


def test_check_tcp_against_a_real_listener(tcp_listener: int) -> None:
    result = run(plugin("check_tcp"), "-H", "127.0.0.1", "-p", str(tcp_listener))
    assert result.ok_state is ProbeOutcome.UP
    assert result.reason.startswith("TCP OK - ")
    assert set(result.metrics) == {"time", "state"}
    assert 0 <= result.metrics["time"] < 10 and result.metrics["state"] == 0.0


def test_check_tcp_against_a_closed_port(closed_port: int) -> None:
    result = run(plugin("check_tcp"), "-H", "127.0.0.1", "-p", str(closed_port))
    assert result.ok_state is ProbeOutcome.DOWN
    assert (
        result.reason == f"connect to address 127.0.0.1 and port {closed_port}: Connection refused"
    )
    assert result.metrics == {"state": 2.0}


def test_check_http_against_the_test_server(http_server: LiveServer) -> None:
    result = run(
        plugin("check_http"),
        "-I",
        "127.0.0.1",
        "-p",
        str(http_server.port),
        "-u",
        "/ok",
        "-s",
        "hello probes",
    )
    assert result.ok_state is ProbeOutcome.UP, result.reason
    assert result.reason.startswith("HTTP OK: HTTP/1.0 200 OK")
    assert set(result.metrics) == {"time", "size", "state"}
    assert result.metrics["size"] > 0


def test_check_http_with_a_missing_string_is_critical(http_server: LiveServer) -> None:
    result = run(
        plugin("check_http"),
        "-I",
        "127.0.0.1",
        "-p",
        str(http_server.port),
        "-u",
        "/ok",
        "-s",
        "absent words",
    )
    assert result.ok_state is ProbeOutcome.DOWN
    assert "string 'absent words' not found" in result.reason
    assert result.metrics["state"] == 2.0


def test_check_disk_perfdata_with_thresholds() -> None:
    result = run(plugin("check_disk"), "-w", "0%", "-c", "0%", "-p", "/")
    assert result.ok_state is ProbeOutcome.UP
    assert result.metrics["/"] > 0
    assert "perfdata_problems" not in result.details


# ---- plugins that misbehave --------------------------------------------------------------


def test_a_missing_plugin(tmp_path: Path) -> None:
    missing = str(tmp_path / "check_nothing")
    result = run(missing)
    assert result.ok_state is ProbeOutcome.UNKNOWN
    assert result.reason == f"plugin not found: {missing}"
    assert result.metrics == {"state": 3.0}


def test_exit_127_is_a_missing_plugin() -> None:
    # env runs the plugin by name and exits 127 when there is none: the shell convention.
    result = run("/usr/bin/env", "check_no_such_plugin_here")
    assert result.ok_state is ProbeOutcome.UNKNOWN
    assert result.reason.startswith("plugin not found: /usr/bin/env (exit 127): ")
    assert "check_no_such_plugin_here" in result.reason
    assert result.details["exit_code"] == "127"


def test_a_plugin_that_is_not_executable(tmp_path: Path) -> None:
    path = script(tmp_path, "check_noexec", "echo OK\n", mode=0o644)
    result = run(path)
    assert (result.ok_state, result.reason) == (
        ProbeOutcome.UNKNOWN,
        f"plugin not executable: {path}",
    )


def test_a_plugin_without_an_interpreter_line(tmp_path: Path) -> None:
    path = tmp_path / "check_noshebang"
    path.write_bytes(b"\x7fELF garbage")
    path.chmod(0o755)
    result = run(str(path))
    assert result.ok_state is ProbeOutcome.UNKNOWN
    assert result.reason == f"plugin could not start: {path}: Exec format error"


def test_garbage_output_keeps_the_exit_codes_state(tmp_path: Path) -> None:
    path = script(
        tmp_path,
        "check_garbage",
        r"printf '\377\376\001binary junk | x=1,5 =3 ok=7\n'; exit 1" "\n",
    )
    result = run(path)
    assert result.ok_state is ProbeOutcome.UP
    assert result.metrics == {"ok": 7.0, "state": 1.0}
    assert result.reason.startswith("WARNING (exit 1); output not understood: ")
    assert result.details["note"] == "output is not UTF-8 text"
    assert "'x=1,5'" in result.details["perfdata_problems"]
    assert "empty label" in result.details["perfdata_problems"]


def test_printable_nonsense_is_the_reason_and_problems_are_noted(tmp_path: Path) -> None:
    path = script(tmp_path, "check_nonsense", "echo 'all fine | this is not perfdata'\n")
    result = run(path)
    assert result.ok_state is ProbeOutcome.UP
    assert result.reason == "all fine"
    assert result.details["perfdata_problems"].count("expected '='") == 4


def test_no_output_at_all(tmp_path: Path) -> None:
    result = run(script(tmp_path, "check_silent", "exit 2\n"))
    assert result.ok_state is ProbeOutcome.DOWN
    assert result.reason == "CRITICAL (exit 2) without any status text"
    assert result.details["note"] == "the plugin printed nothing"


def test_an_exit_code_that_is_not_a_state(tmp_path: Path) -> None:
    result = run(script(tmp_path, "check_42", "echo 'it broke' >&2; exit 42\n"))
    assert result.ok_state is ProbeOutcome.UNKNOWN
    assert result.reason == "plugin exited with code 42, not a plugin state: it broke"
    assert result.metrics == {"state": 3.0}
    assert result.details["stderr"] == "it broke"


def test_a_plugin_killed_by_a_signal(tmp_path: Path) -> None:
    result = run(script(tmp_path, "check_suicide", "echo 'going down'; kill -TERM $$\n"))
    assert result.ok_state is ProbeOutcome.UNKNOWN
    assert result.reason == "plugin killed by signal SIGTERM: going down"


def test_a_hanging_plugin_and_its_children_are_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    path = script(tmp_path, "check_hang", 'sleep 60 & echo $! > "$1"; echo started; wait\n')
    result = run(path, str(pid_file), timeout_s=0.5, clock=SystemClock())
    assert result.ok_state is ProbeOutcome.UNKNOWN
    assert result.reason == "plugin timed out after 0.5 s"
    assert result.metrics == {"state": 3.0}
    assert 0.5 <= result.duration_s < 2
    # The grandchild held the output pipe open; killing only the shell would have left it.
    assert not process_alive(int(pid_file.read_text()))


def test_output_over_the_cap_is_drained_and_truncated(tmp_path: Path) -> None:
    # 1 MB of output would fill the pipe and block a plugin whose reader stopped at the cap.
    body = "echo 'BIG OK | size=1MB'; head -c 1000000 /dev/zero | tr '\\0' 'a'; echo; exit 0\n"
    result = run(script(tmp_path, "check_big", body), timeout_s=5, output_cap_bytes=4096)
    assert result.ok_state is ProbeOutcome.UP
    assert result.reason == "BIG OK"
    assert result.metrics == {"size": 1.0, "state": 0.0}
    assert result.details["note"] == "output truncated to 4096 of 1000019 bytes"
    assert len(result.details["long_output"]) < 4096


def test_a_cut_through_a_character_is_not_called_garbage(tmp_path: Path) -> None:
    path = script(tmp_path, "check_utf8", "echo 'DISK OK – é é é é'\n")
    result = run(path, output_cap_bytes=len("DISK OK – é é é é".encode()) - 1)
    assert result.reason == "DISK OK – é é é"
    assert result.details["note"].startswith("output truncated")


def test_multi_line_output_and_perfdata(tmp_path: Path) -> None:
    body = (
        "cat <<'EOF'\n"
        "DISK OK - free space | /=2643MB;5948;5958;0;5968\n"
        "/boot 68 MB (69%);\n"
        "/home 69357 MB (27%); | /boot=68MB;88;93;0;98\n"
        "'/var log'=818MB;970;975;0;980\n"
        "EOF\n"
    )
    result = run(script(tmp_path, "check_multi", body))
    assert result.reason == "DISK OK - free space"
    assert result.details["long_output"] == "/boot 68 MB (69%);\n/home 69357 MB (27%);"
    assert result.metrics == {"/": 2643, "/boot": 68, "/var log": 818, "state": 0}


def test_the_environment_is_passed_and_numbers_use_a_decimal_point(tmp_path: Path) -> None:
    path = script(tmp_path, "check_env", 'echo "OK $PROBE_GREETING $LC_ALL | v=1"\n')
    result = run(path, env={"PROBE_GREETING": "hi"})
    assert result.reason == "OK hi C"


def test_a_perfdata_label_named_state_does_not_replace_the_plugin_state(tmp_path: Path) -> None:
    result = run(script(tmp_path, "check_state", "echo 'WARN | state=0'; exit 1\n"))
    assert result.metrics == {"state": 1.0}
    assert "shadowed" in result.details["note"]


def test_unusable_configs_raise() -> None:
    with pytest.raises(ValueError, match="plugin's path"):
        NagiosProbeConfig([])
    with pytest.raises(ValueError, match="positive"):
        NagiosProbeConfig(["x"], timeout_s=0)


def test_arguments_and_environment_stay_out_of_the_repr() -> None:
    config = NagiosProbeConfig(
        ["/usr/lib/nagios/plugins/check_http", "-a", "ada:s3cret"], env={"TOKEN": "s3cret"}
    )
    assert "s3cret" not in repr(config)
    assert "check_http" in repr(config) and "args=2" in repr(config)


def test_the_command_is_never_given_to_a_shell(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    result = run(plugin("check_dummy"), "0", f"text; touch {marker}", f"$(touch {marker})")
    assert result.reason == f"OK: text; touch {marker}"
    assert not marker.exists()
