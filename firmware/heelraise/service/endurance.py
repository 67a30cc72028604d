"""The heel-raise endurance test: reps until the user stops, with height decline and work.

Started and stopped by the ``start_endurance_test`` / ``stop_endurance_test``
commands; the service feeds it every rep counted meanwhile. Work is the body
lifted by each rep's heel rise: ``body_mass_kg * 9.81 m/s^2 * heel_rise_m``,
summed (the usual "total work" of the heel-rise endurance test).

>>> test = EnduranceTest(body_mass_kg=70.0)
>>> test.add_rep(rep)          # doctest: +SKIP
>>> test.result("command")     # doctest: +SKIP
{'reps': 1, 'first_heel_rise_mm': 52.0, ..., 'stopped_by': 'command'}
"""

from __future__ import annotations

G_MPS2 = 9.80665


class EnduranceTest:
    def __init__(self, body_mass_kg: float):
        self.body_mass_kg = float(body_mass_kg)
        self.heel_rise_mm: list[float] = []

    def add_rep(self, rep) -> None:
        self.heel_rise_mm.append(float(rep.heel_rise_mm))

    def result(self, stopped_by: str) -> dict:
        """The MQTT session body's ``endurance`` object."""
        h = self.heel_rise_mm
        n = len(h)
        first = h[0] if n else None
        last = h[-1] if n else None
        decline = None
        if n and first > 0:
            decline = round(100.0 * (first - last) / first, 1)
        work_j = sum(self.body_mass_kg * G_MPS2 * mm / 1000.0 for mm in h)
        return {
            "reps": n,
            "first_heel_rise_mm": None if first is None else round(first, 1),
            "last_heel_rise_mm": None if last is None else round(last, 1),
            "mean_heel_rise_mm": round(sum(h) / n, 1) if n else None,
            "decline_pct": decline,
            "work_j": round(work_j, 1),
            "stopped_by": stopped_by,
        }
