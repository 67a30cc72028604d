"""The light ``idna`` codec the service registers before paho connects (heelraise.deferred).

``socket.getaddrinfo`` encodes a str host name with the ``idna`` codec, whose module loads
``stringprep`` and ``unicodedata`` (0.4 MB of the service, ``bench/service_cpu.py``).
:func:`heelraise.deferred.defer_idna` registers a codec that encodes an ASCII name as the
real codec's fast path does and hands everything else to the real module. In a process of
its own (the codec registry is the process's): every name encodes to the same bytes or fails
with the same error as with the real codec, and ASCII names load none of those modules.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import textwrap

NAMES = [
    "127.0.0.1",
    "localhost",
    "broker.local",
    "mqtt.example.org.",
    "",
    "a.",
    "a..b",
    ".a",
    "x" * 63 + ".lan",
    "x" * 64 + ".lan",
    "lan." + "x" * 64,
    "lan." + "x" * 63,
    "bücher.de",
    "straße.example",
]


def encoded(names: list[str]) -> list:
    """Each name's idna bytes, or its error (run here and, as source, in the child)."""
    out = []
    for name in names:
        try:
            out.append(["ok", name.encode("idna").decode("ascii")])
        except UnicodeError as e:
            out.append(["error", type(e).__name__, str(e)])
    return out


#: ASCII names the real codec takes: encoded without its module.
PLAIN = ["127.0.0.1", "localhost", "broker.local", "mqtt.example.org.", "", "a."]


def test_ascii_names_without_the_module_and_every_name_as_the_real_codec_has_it():
    code = inspect.getsource(encoded) + textwrap.dedent(
        """
        import json, socket, sys
        from heelraise.deferred import defer_idna
        plain, names = json.loads(sys.argv[1]), json.loads(sys.argv[2])
        defer_idna()
        loaded = lambda: [m for m in ("encodings.idna", "stringprep", "unicodedata")
                          if m in sys.modules]
        plain_encoded = encoded(plain)
        socket.getaddrinfo("localhost", 1883)
        after_plain = loaded()
        everything = encoded(names)
        import encodings.idna
        print(json.dumps({"plain": plain_encoded, "after_plain": after_plain,
                          "all": everything, "after_all": loaded(),
                          "real_module": hasattr(encodings.idna, "ToASCII")}))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", code, json.dumps(PLAIN), json.dumps(NAMES)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    assert got["after_plain"] == []
    assert got["plain"] == encoded(PLAIN)
    assert got["all"] == encoded(NAMES)
    assert "encodings.idna" in got["after_all"] and got["real_module"]
    assert [r[0] for r in got["all"]].count("error") >= 4  # the errors were compared too
