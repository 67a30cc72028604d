"""The simulator: a physically honest shoe-mounted IMU doing (and not doing) heel raises."""

from heelraise.sim.kinematics import Motion
from heelraise.sim.sensor import SensorModel
from heelraise.sim.session import SessionSpec, SimulatedSession, simulate_session

__all__ = ["Motion", "SensorModel", "SessionSpec", "SimulatedSession", "simulate_session"]
