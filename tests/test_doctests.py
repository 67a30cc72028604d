"""The examples in these modules' docstrings run, and show their real output.

Each module here keeps ``>>>`` examples for what runs offline (devicesim messages,
in-memory stores, temp files); what needs a broker or the network is a literal
block without prompts, so nothing is skipped. Issue 14 item 8.
"""

import doctest
import importlib

import pytest

MODULES = [
    "heelraise_host.devicesim",
    "heelraise_host.ingest",
    "heelraise_host.livehub",
    "heelraise_host.messages",
    "heelraise_host.mqttlink",
    "heelraise_host.server",
    "heelraise_host.store",
    "heelraise_host.watch",
    "heelraise.demo.broker",
    "heelraise.demo.runner",
    "heelraise.sim.session",
    "heelraise.protocol.validation",
    "heelraise.mqtt.settings",
    "heelraise.chain.analyzer",
    "heelraise_host.report",
    "heelraise.imu.sim",
    "heelraise.mqtt.outbox",
    "heelraise.service.commands",
    "heelraise.service.endurance",
    "heelraise.service.live",
    "heelraise.protocol.payloads",
    "heelraise.mqtt.testing",
    "heelraise.service.journal",
]


@pytest.mark.parametrize("name", MODULES)
def test_module_doctests_run_and_match(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, report=True)
    assert result.attempted > 0, f"{name} has no doctest examples left"
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"


@pytest.mark.parametrize("name", MODULES)
def test_no_skipped_examples(name):
    """A skipped example shows nothing true: literal blocks stand in for what needs a broker."""
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder()
    skipped = [
        f"{t.name} line {t.lineno + e.lineno + 1}: {e.source.strip()}"
        for t in finder.find(module)
        for e in t.examples
        if e.options.get(doctest.SKIP)
    ]
    assert not skipped, "examples marked SKIP:\n" + "\n".join(skipped)


def _every_module() -> list[str]:
    import pkgutil

    import heelraise
    import heelraise_host

    names = []
    for package in (heelraise, heelraise_host):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not info.name.endswith("__main__"):
                names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _every_module())
def test_no_module_has_an_example_that_lies(name):
    """Every module's examples, wherever there are any, run and match (issue 14 item 8)."""
    result = doctest.testmod(importlib.import_module(name), report=True)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
