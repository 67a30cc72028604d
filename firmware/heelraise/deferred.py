"""Import a library without the modules it imports at its top for features we do not use.

paho-mqtt imports ``ssl`` (OpenSSL's libcrypto and libssl), ``hashlib`` and
``urllib.request`` (``http.client``, ``email``) whether or not the connection uses TLS, a
WebSocket or a proxy; gpiozero imports ``importlib.metadata`` (``email``, ``csv``) and
``statistics`` (``fractions``, ``decimal``) for pin-factory plug-ins and smoothed inputs.
On the shoe that is 6 to 7 MB of the service's memory (``bench/service_cpu.py``) for
code a plain-TCP connection to the broker and an LED, a buzzer and a button never run.

:func:`import_deferring` imports the library with a :class:`StandIn` in ``sys.modules``
for each such module, only while the library's own import runs. The library keeps its
stand-ins as its globals; a stand-in imports the real module the first time anything of
it is used, and from then on hands out the real module's attributes. So nothing the
library does changes: only when the module is loaded. Everything else in the process
imports the real modules as usual (the stand-ins are never left in ``sys.modules``).
"""

from __future__ import annotations

import importlib
import sys
import types


class StandIn(types.ModuleType):
    """Stands in for module ``name`` while a library imports it.

    ``functions``: names the library takes with ``from name import f``; each is a function
    that imports the real module when called. ``placeholders``: names of exception classes
    the library only names in ``except`` clauses; while the real module has not been
    imported nothing can have raised one of them, so the clause gets a class of its own
    that nothing raises (once the real module is imported, the real class).
    """

    def __init__(self, name: str, *, functions=(), placeholders=()):
        super().__init__(name, f"Stands in for {name} until it is used (heelraise.deferred).")
        for f in functions:
            setattr(self, f, self._calling(f))
        self._placeholders = {
            p: type(p, (Exception,), {"__module__": __name__}) for p in placeholders
        }

    def _calling(self, attr: str):
        name = self.__name__

        def call(*args, **kwargs):
            return getattr(importlib.import_module(name), attr)(*args, **kwargs)

        call.__name__ = call.__qualname__ = attr
        call.__doc__ = f"{name}.{attr}, imported on the first call."
        return call

    def __getattr__(self, attr: str):
        if attr.startswith("__"):  # the import system's own questions: not a use
            raise AttributeError(attr)
        real = sys.modules.get(self.__name__)
        if (real is None or real is self) and attr in self._placeholders:
            return self._placeholders[attr]
        if real is self:  # used while the library is still importing: load it after all
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attr)


def import_deferring(name: str, *stand_ins: StandIn) -> types.ModuleType:
    """``importlib.import_module(name)``, the library seeing each stand-in in place of its
    module while it imports (a module already imported stays the real one).

    A stand-in for a submodule (``urllib.request``) is also set on its package, where a
    library reads it (``import urllib.request`` binds ``urllib``), unless the package has
    the real one; importing the real submodule later replaces it there.
    """
    if name in sys.modules:
        return sys.modules[name]
    placed = [s for s in stand_ins if s.__name__ not in sys.modules]
    for s in placed:
        sys.modules[s.__name__] = s
    try:
        module = importlib.import_module(name)
    finally:
        for s in placed:
            if sys.modules.get(s.__name__) is s:
                del sys.modules[s.__name__]
    for s in placed:
        package, _, child = s.__name__.rpartition(".")
        if package in sys.modules and not hasattr(sys.modules[package], child):
            setattr(sys.modules[package], child, s)
    return module


class NumpyMaStandIn(StandIn):
    """Stands in for ``numpy.ma`` as numpy's ``ma`` attribute until masked arrays are used.

    numpy imports :mod:`numpy.ma` (1.3 MB of the service's memory, ``bench/service_cpu.py``)
    the first time ``np.unique`` or ``np.median`` runs, only to ask whether its input is a
    masked array (``np.ma.is_masked``, ``np.ma.isMaskedArray``). Until ``numpy.ma.core`` is
    imported no masked array exists, so the answer is known: False for ``isMaskedArray``
    and ``isMA``, and for ``is_masked`` of anything without a ``_mask`` (``np.ma.getmask``'s
    test). Any other use, or those questions once ``numpy.ma.core`` is loaded, goes to the
    real module; importing it (``import numpy.ma``) puts it in numpy's ``ma`` for good.
    """

    def __init__(self):
        super().__init__("numpy.ma")

    @staticmethod
    def _real():
        return importlib.import_module("numpy.ma")

    def isMaskedArray(self, x) -> bool:  # noqa: N802 - numpy's name
        return False if "numpy.ma.core" not in sys.modules else self._real().isMaskedArray(x)

    isMA = isMaskedArray

    def is_masked(self, x) -> bool:
        if "numpy.ma.core" not in sys.modules and not hasattr(x, "_mask"):
            return False
        return self._real().is_masked(x)


def defer_numpy_ma() -> None:
    """Give numpy a :class:`NumpyMaStandIn` as ``numpy.ma`` unless the real one is loaded."""
    import numpy

    if "numpy.ma" not in sys.modules and "ma" not in vars(numpy):
        numpy.ma = NumpyMaStandIn()


class IdnaStandIn(StandIn):
    """Stands in for ``encodings.idna`` while the ``idna`` codec is looked up.

    Python's socket code encodes every host name it is given as a str with the ``idna``
    codec (``socket.getaddrinfo``: paho's connect to the broker), and the codec's module
    imports ``stringprep`` and ``unicodedata`` for names that are not ASCII: 0.4 MB of the
    service's memory (``bench/service_cpu.py``) for a broker at ``127.0.0.1`` or
    ``broker.local``. The codec this hands the registry encodes an ASCII name whose labels
    the real codec would take (1 to 63 characters) as its ASCII bytes, as the real codec's
    own fast path does; any other name, every error and all decoding go to the real module,
    imported then.
    """

    def __init__(self):
        super().__init__("encodings.idna")

    @staticmethod
    def _real():
        return importlib.import_module("encodings.idna")

    def __getattr__(self, attr: str):
        if attr == "getaliases":  # asked by the codec registry; the real module has none
            raise AttributeError(attr)
        return super().__getattr__(attr)

    def encode(self, input, errors="strict"):  # noqa: A002 - the codec API's name
        if errors == "strict" and input.isascii():
            labels = input.split(".")
            if all(0 < len(label) < 64 for label in labels[:-1]) and len(labels[-1]) < 64:
                return input.encode("ascii"), len(input)
        return self._real().Codec().encode(input, errors)

    def decode(self, input, errors="strict"):  # noqa: A002
        return self._real().Codec().decode(input, errors)

    def getregentry(self):
        import codecs

        def later(name):
            return lambda *args, **kwargs: getattr(self._real(), name)(*args, **kwargs)

        return codecs.CodecInfo(
            name="idna",
            encode=self.encode,
            decode=self.decode,
            incrementalencoder=later("IncrementalEncoder"),
            incrementaldecoder=later("IncrementalDecoder"),
            streamwriter=later("StreamWriter"),
            streamreader=later("StreamReader"),
        )


def defer_idna() -> None:
    """Register the ``idna`` codec of :class:`IdnaStandIn` unless the codec was looked up
    or its module imported already. The stand-in is in ``sys.modules`` only while the
    registry asks for the codec (the registry keeps the codec it got, the module is not
    kept): ``import encodings.idna`` anywhere still gives the real module."""
    import codecs
    import encodings

    if "encodings.idna" in sys.modules or "idna" in getattr(encodings, "_cache", {}):
        return
    stand_in = IdnaStandIn()
    sys.modules["encodings.idna"] = stand_in
    try:
        codecs.lookup("idna")
    finally:
        if sys.modules.get("encodings.idna") is stand_in:
            del sys.modules["encodings.idna"]
        if getattr(encodings, "idna", None) is stand_in:
            del encodings.idna
