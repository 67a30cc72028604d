"""The service's memory cuts that are imports: what a config does not use is not loaded.

paho-mqtt and gpiozero are imported with stand-ins for the modules they import at their top
for TLS, WebSockets, proxies, plug-ins and smoothed inputs (:mod:`heelraise.deferred`), and
the derived message ids hash with CPython's own SHA-1: 6 to 8 MB of the service's peak
(``bench/service_cpu.py``). Each test runs the code in a process of its own (pytest has
imported everything already) and checks both sides: the module is absent, and what used it
still works (the events reach a real broker, TLS still connects, the ids are uuid5's).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid

import pytest
from heelraise.deferred import StandIn, import_deferring
from heelraise.protocol import payloads

#: Loaded by nothing a plain-TCP MQTT connection, mock or real pins and the chain need
#: (``numpy.ma``: numpy only asks whether an array is masked, ``deferred.NumpyMaStandIn``;
#: fastjsonschema and ``decimal``: the commands are checked by ``protocol.schemacheck``;
#: ``encodings.idna``, ``stringprep``, ``unicodedata``: the broker's ASCII host name is
#: encoded by ``deferred.IdnaStandIn``'s codec; ``subprocess``: only gpiozero's PingServer
#: runs a command).
NOT_LOADED = (
    "ssl",
    "_ssl",
    "hashlib",
    "_hashlib",
    "urllib.request",
    "http.client",
    "email",
    "importlib.metadata",
    "statistics",
    "fractions",
    "numpy.ma",
    "fastjsonschema",
    "decimal",
    "encodings.idna",
    "stringprep",
    "unicodedata",
    "subprocess",
)


def _child(code: str, *args: str, timeout: float = 120.0) -> dict:
    """Run ``code`` in a fresh Python; it prints one JSON object on its last line."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_service_with_cues_and_mqtt_loads_none_of_them_and_delivers(
    mqtt_broker, mqtt_subscriber, tmp_path
):
    from heelraise.cli import main

    recording = tmp_path / "rec.csv"
    assert main(["simulate", str(recording), "--sets", "1", "--reps", "3", "--seed", "11"]) == 0
    config = tmp_path / "config.toml"
    config.write_text(
        f'[device]\nid = "shoe-1"\n[sensor]\ntype = "replay"\nreplay_file = "{recording}"\n'
        f'[mqtt]\nhost = "{mqtt_broker.host}"\nport = {mqtt_broker.port}\n'
        f'outbox_path = "{tmp_path / "outbox.sqlite3"}"\n'
    )
    rec = mqtt_subscriber(mqtt_broker, "heelraise/shoe-1/event/#")
    result = _child(
        """
        import contextlib, io, json, sys
        from heelraise.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            code = main(["run", "--config", sys.argv[1], "--speed", "max", "--json"])
        print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
        """,
        str(config),
    )
    assert result["code"] == 0
    modules = set(result["modules"])
    # the run had what it needs: paho, gpiozero's mock pins, the coach and the chain
    for needed in ("paho.mqtt.client", "gpiozero.pins.mock", "heelraise.cues.coach"):
        assert needed in modules
    assert [m for m in NOT_LOADED if m in modules] == []
    messages = rec.wait_for(
        lambda ms: [m for m in ms if m.json()["type"] == "session"] and ms,
        what="the session's events over plain MQTT",
    )
    kinds = [m.json()["type"] for m in messages]
    assert kinds.count("rep") >= 1 and "set" in kinds and "session" in kinds


def test_without_mqtt_no_sqlite_nor_paho_and_without_cues_no_gpiozero(tmp_path):
    from heelraise.cli import main

    recording = tmp_path / "rec.csv"
    assert main(["simulate", str(recording), "--sets", "1", "--reps", "3", "--seed", "12"]) == 0
    config = tmp_path / "config.toml"
    config.write_text(f'[sensor]\ntype = "replay"\nreplay_file = "{recording}"\n')
    result = _child(
        """
        import contextlib, io, json, sys
        from heelraise.cli import main
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(["run", "--config", sys.argv[1], "--speed", "max", "--json", "--no-cues"])
        kinds = [json.loads(line)["type"] for line in out.getvalue().splitlines()]
        print(json.dumps({"code": code, "kinds": kinds, "modules": sorted(sys.modules)}))
        """,
        str(config),
    )
    assert result["code"] == 0
    assert result["kinds"].count("rep") >= 1 and "session" in result["kinds"]
    loaded = set(result["modules"])
    assert "heelraise.chain.analyzer" in loaded
    unused = ("sqlite3", "heelraise.service.journal", "paho", "fastjsonschema", "gpiozero")
    assert [m for m in unused if m in loaded] == []


def test_tls_after_the_light_import_connects_and_delivers(
    mqtt_tls_broker, mqtt_subscriber, tmp_path
):
    """paho imported without ssl, then a TLS config: the real ssl comes in for it and
    paho's socket code uses it (its SSL errors are the real classes from then on)."""
    rec = mqtt_subscriber(mqtt_tls_broker, "heelraise/shoe-1/event/#")
    b = mqtt_tls_broker
    result = _child(
        """
        import json, sys, time
        from heelraise.mqtt.client import paho_client
        paho = paho_client()
        before = "ssl" in sys.modules
        placeholder = paho.ssl.SSLWantReadError
        from heelraise.mqtt.publisher import MqttPublisher
        from heelraise.mqtt.settings import MqttSettings
        from heelraise.mqtt.testing import fake_set
        host, port, ca, user, password, outbox = sys.argv[1:]
        pub = MqttPublisher(
            MqttSettings(host=host, port=int(port), tls_ca=ca, username=user,
                         password=password, outbox_path=outbox),
            device_id="shoe-1", session_id="s",
        )
        for e in fake_set(1, 2):
            pub.on_event(e)
        deadline = time.monotonic() + 20
        while len(pub.outbox) and time.monotonic() < deadline:
            time.sleep(0.02)
        left = len(pub.outbox)
        pub.close()
        import ssl
        print(json.dumps({
            "before": before, "left": left,
            "placeholder_was_real": placeholder is ssl.SSLWantReadError,
            "now_real": paho.ssl.SSLWantReadError is ssl.SSLWantReadError,
        }))
        """,
        b.host,
        str(b.port),
        str(b.ca_path),
        b.username,
        b.password,
        str(tmp_path / "outbox.sqlite3"),
    )
    assert result == {
        "before": False,
        "left": 0,
        "placeholder_was_real": False,
        "now_real": True,
    }
    rec.wait_for(lambda ms: len(ms) == 3, what="2 reps and the set over TLS")


def test_gpiozero_pins_and_colours_work_without_its_plugin_lookup_and_statistics():
    result = _child(
        """
        import json, sys
        from heelraise.cues.gpio import gpiozero_module
        mock = gpiozero_module("gpiozero.pins.mock")
        from heelraise.cues.outputs import CueBuzzer, CueLight, SetButton
        factory = mock.MockFactory(pin_class=mock.MockPWMPin)
        led = CueLight(17, pin_factory=factory)
        led.show(0.25)
        buzzer = CueBuzzer(18, kind="passive", pin_factory=factory)
        buzzer.sound(1760.0)
        button = SetButton(27, pin_factory=factory)
        absent = [
            m for m in ("importlib.metadata", "statistics", "fractions", "subprocess")
            if m in sys.modules
        ]
        import gpiozero.mixins
        median = gpiozero.mixins.median([3.0, 1.0, 2.0])  # gpiozero's default average
        import colorzero
        lab = [round(v, 3) for v in colorzero.Color("red").lab]  # uses Fraction
        import gpiozero.internal_devices as internal  # PingServer runs ping with subprocess
        ran = internal.subprocess.check_call([sys.executable, "-c", "pass"])
        print(json.dumps({
            "absent_then": absent, "median": median, "lab": lab,
            "led": factory.pin(17).state, "buzz": factory.pin(18).frequency,
            "statistics_now": "statistics" in sys.modules,
            "ran": ran,
            "subprocess_now": "subprocess" in sys.modules,
        }))
        """
    )
    assert result == {
        "absent_then": [],
        "median": 2.0,
        "lab": [53.241, 80.092, 67.203],  # CIE Lab of sRGB red (D65)
        "led": 0.25,
        "buzz": 1760.0,
        "statistics_now": True,
        "ran": 0,
        "subprocess_now": True,
    }


def test_derived_ids_are_uuid5_with_the_sha1_that_needs_no_openssl():
    for parts in (("shoe-1", "20261124T031500Z-1a2b3c", "set", 3), ("d", "s", "session"), ("ü",)):
        name = "/".join(str(p) for p in parts)
        assert payloads.derived_id(*parts) == uuid.uuid5(payloads._DERIVED_IDS, name).hex
    assert payloads.sha1.__module__ != "_hashlib"  # not OpenSSL's (hashlib's first choice)


# --- heelraise.deferred on a library made up here ------------------------------------------


@pytest.fixture
def library(tmp_path, monkeypatch):
    """``lib`` imports ``heavy`` (a module) and ``from tool import run`` at its top; both
    record in ``loaded.txt`` that they were imported."""
    log = tmp_path / "loaded.txt"
    log.write_text("")
    record = f"open({str(log)!r}, 'a').write(__name__ + '\\n')\n"
    (tmp_path / "heavy.py").write_text(record + "class Busy(Exception):\n    pass\nX = 42\n")
    (tmp_path / "tool.py").write_text(record + "def run(a, b=1):\n    return a + b\n")
    (tmp_path / "lib.py").write_text(
        "import heavy\nfrom tool import run\n\n"
        "def guarded(fn):\n    try:\n        return fn()\n    except heavy.Busy:\n"
        "        return 'busy'\n\ndef x():\n    return heavy.X\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("lib", "heavy", "tool"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    yield lambda: log.read_text().split()
    for name in ("lib", "heavy", "tool"):
        sys.modules.pop(name, None)


def test_stand_ins_load_their_module_on_first_use_and_only_then(library):
    lib = import_deferring(
        "lib", StandIn("heavy", placeholders=("Busy",)), StandIn("tool", functions=("run",))
    )
    assert library() == []  # nothing loaded by the import
    assert "heavy" not in sys.modules and "tool" not in sys.modules  # stand-ins gone
    assert lib.guarded(lambda: 7) == 7  # an except clause naming Busy: no load
    with pytest.raises(ValueError):  # an exception the clause must not catch
        lib.guarded(lambda: (_ for _ in ()).throw(ValueError("x")))
    assert library() == []
    assert lib.run(2, b=3) == 5  # the function: loads tool and calls the real one
    assert library() == ["tool"]
    assert lib.x() == 42  # an attribute: loads heavy
    assert library() == ["tool", "heavy"]
    import heavy  # the real module, and the library's except clause now names its class

    def busy():
        raise heavy.Busy

    assert lib.guarded(busy) == "busy"
    assert lib.heavy.Busy is heavy.Busy


def test_a_module_already_imported_is_not_stood_in_for(library):
    import heavy

    lib = import_deferring("lib", StandIn("heavy", placeholders=("Busy",)))
    assert lib.heavy is heavy
    assert library() == ["heavy", "tool"]  # tool had no stand-in: imported with lib


def test_the_heap_trim_finds_malloc_trim_without_a_subprocess():
    """ctypes.util.find_library runs ``ldconfig -p`` (a fork of the service) and imports
    subprocess; the C library's symbols are already in the process."""
    result = _child(
        """
        import json, platform, sys
        from heelraise.heap import release_free_heap
        trimmed = release_free_heap()
        print(json.dumps({
            "trimmed": trimmed, "glibc": platform.libc_ver()[0] == "glibc",
            "loaded": [m for m in ("ctypes.util", "subprocess") if m in sys.modules],
        }))
        """
    )
    assert result["trimmed"] == result["glibc"]
    assert result["loaded"] == []
