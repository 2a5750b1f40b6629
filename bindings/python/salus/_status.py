"""What the daemon reports about sessions and itself, as dataclasses."""

from dataclasses import dataclass
from typing import Optional

from . import _capi

_NS = 1e-9
_NO_LANE = 2**64 - 1


@dataclass(frozen=True)
class SessionStatus:
    """One session as the daemon lists it. Times are in seconds; ``lane`` is
    None while the session waits for device memory; ``P`` and ``T`` are the
    exact persistent and ephemeral device bytes planned for its graph."""

    id: int
    name: str
    client_pid: int
    state: str  # queued, waiting, ready, running, closing, closed
    lane: Optional[int]
    persistent_bytes: int
    ephemeral_bytes: int
    iterations: int  # completed
    pending: int  # queued or running
    declared_iterations: int
    priority: int
    weight: float
    run_time: float  # total execution time
    queueing_time: float  # total time its iterations waited to start
    mean_iteration_time: Optional[float]  # None before the first iteration
    admitted_at: Optional[float]  # the daemon's monotonic clock
    completed_at: Optional[float]  # when it closed
    job: Optional[int] = None  # the tenant (e.g. Slurm job) it is charged to

    @property
    def P(self):
        """Persistent device bytes (variables, constants)."""
        return self.persistent_bytes

    @property
    def T(self):
        """Ephemeral device bytes of one iteration."""
        return self.ephemeral_bytes

    @classmethod
    def _from_info(cls, info):
        def seconds_or_none(ns):
            return ns * _NS if ns else None

        return cls(
            id=info.session_id,
            name=info.name,
            client_pid=info.client_pid,
            state=info.state,
            lane=None if info.lane == _NO_LANE else info.lane,
            persistent_bytes=info.persistent_bytes,
            ephemeral_bytes=info.ephemeral_bytes,
            iterations=info.iterations,
            pending=info.pending,
            declared_iterations=info.declared_iterations,
            priority=info.priority,
            weight=info.weight,
            run_time=info.run_ns * _NS,
            queueing_time=info.queueing_ns * _NS,
            mean_iteration_time=seconds_or_none(info.mean_iteration_ns),
            admitted_at=seconds_or_none(info.admitted_ns),
            completed_at=seconds_or_none(info.completed_ns),
            job=info.tenant or None,
        )


@dataclass(frozen=True)
class DaemonStatus:
    """The daemon's device, policy, memory pool and lanes. Latencies are in
    seconds."""

    device: str
    policy: str
    admission: str  # "safe" (sum P + max T) or "static" (sum P + T)
    pool_bytes: int
    free_bytes: int  # pool memory outside every lane
    lanes: int
    open_sessions: int
    queued_sessions: int  # waiting for device memory
    switches: int  # job switches inside a lane, recently
    switch_p50: float
    switch_p99: float

    @classmethod
    def _from_status(cls, s):
        return cls(
            device=s.device,
            policy=s.policy,
            admission=s.admission,
            pool_bytes=s.pool_bytes,
            free_bytes=s.free_bytes,
            lanes=s.lanes,
            open_sessions=s.open_sessions,
            queued_sessions=s.queued_sessions,
            switches=s.switches,
            switch_p50=s.switch_p50_ns * _NS,
            switch_p99=s.switch_p99_ns * _NS,
        )


def list_sessions(client_handle):
    """SessionStatus of every session the daemon lists."""
    return [SessionStatus._from_info(i) for i in _capi.list_sessions(client_handle)]
