"""``heelraise watch`` and ``heelraise dashboard`` from the outside: the rich table, the
commands against a real broker, and the exposure warning on the terminal."""

from __future__ import annotations

import subprocess
import sys
import threading

import paho.mqtt.client as mqtt
from conftest import free_port, wait_until
from heelraise_host import messages
from heelraise_host.devicesim import publish_all, session_messages
from heelraise_host.watch import RepTable, watch
from rich.console import Console


def _parsed(msgs):
    return [messages.parse(m.topic, m.payload) for m in msgs if "/live" not in m.topic]


def test_the_table_shows_the_last_reps_per_device_as_plain_text():
    table = RepTable(rows_per_device=3)
    for m in _parsed(session_messages("shoe-1", "[red]s-1", reps_per_set=[5], seed=1)):
        table.add(m)
    for m in _parsed(session_messages("shoe-2", "s-2", reps_per_set=[2], seed=2)):
        table.add(m)
        table.add(m)  # a redelivery is not a new rep
    console = Console(record=True, width=160, color_system=None)
    console.print(table.render())
    text = console.export_text()
    assert "[red]s-1" in text  # markup in a session id is shown, not obeyed
    assert table.rep_totals == {"shoe-1": 5, "shoe-2": 2}
    lines = [x for x in text.splitlines() if " [red]s-1 " in x]
    assert len(lines) == 3 and "too_fast" in text  # only the last three of five
    assert [x.split("│")[6].strip() for x in lines] == ["3", "4", "5"]


def test_watch_follows_a_broker_until_stopped(mqtt_broker):
    console = Console(record=True, width=160, color_system=None, force_terminal=False)
    stop = threading.Event()
    table = RepTable()
    result = {}
    broker = f"{mqtt_broker.host}:{mqtt_broker.port}"
    thread = threading.Thread(
        target=lambda: result.setdefault(
            "rc", watch(broker, console=console, stop=stop, table=table)
        )
    )
    thread.start()
    shoe = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    shoe.connect(mqtt_broker.host, mqtt_broker.port)
    shoe.loop_start()
    try:
        # The watcher subscribes in its thread; publish until its table shows the reps.
        msgs = session_messages("shoe-9", "s-9", reps_per_set=[2], seed=3)

        def shown():
            publish_all(shoe, msgs)
            return table.rep_totals["shoe-9"] == 2

        wait_until(shown, 10, "the watcher to count shoe-9's reps", interval_s=0.3)
        shoe.publish("heelraise/shoe-9/event/rep", b"{bad", qos=1).wait_for_publish(5)
        wait_until(lambda: table.rejected["malformed_json"] == 1, 10, "the bad message counted")
    finally:
        stop.set()
        thread.join(10)
        shoe.disconnect()
        shoe.loop_stop()
    assert result == {"rc": 0}
    text = console.export_text()  # the final table, printed when the live display ends
    assert "shoe-9" in text and "refused: malformed_json 1" in text


def test_dashboard_command_warns_when_exposed_without_a_token(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "heelraise",
            "dashboard",
            "--no-mqtt",
            "--db",
            str(tmp_path / "h.db"),
            "--bind",
            f"0.0.0.0:{port}",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        for line in proc.stderr:  # bounded: the process prints these two lines at start
            lines.append(line)
            if line.startswith("heelraise dashboard: http"):
                break
        text = "".join(lines)
        assert "WARNING" in text and "without a token" in text and f"0.0.0.0:{port}" in text
    finally:
        proc.terminate()
        proc.wait(10)


def test_dashboard_command_names_a_bad_bind(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "heelraise", "dashboard", "--no-mqtt", "--bind", "localhost:x"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 2
    assert "--bind 'localhost:x': port 'x' is not a number" in out.stderr


def test_a_pair_shows_a_row_block_per_shoe():
    from heelraise_host.devicesim import pair_messages

    table = RepTable(rows_per_device=20)
    table.take("heelraise/pair-1/status", b"online")  # before its shoes: a placeholder
    for m in pair_messages("pair-1", "s-1", reps_per_set=[5]):
        table.take(m.topic, m.payload)
    assert table.rejected == {}
    assert sorted(table.reps) == [("pair-1", "left"), ("pair-1", "right")]
    assert len(table.reps[("pair-1", "left")]) == 5 and len(table.reps[("pair-1", "right")]) == 2
    assert table.rep_totals["pair-1"] == 7
    console = Console(width=120, color_system=None, record=True)
    console.print(table.render())
    text = console.export_text()
    assert "pair-1 left" in text and "pair-1 right" in text
