"""Requests to replicas: the router policies, and the arrival process that feeds a router.

``round_robin`` sends request k to replica k mod n. ``least_outstanding`` sends each request to the replica with the
fewest tokens of work queued and running (prefill tokens left plus decode steps left, summed over its requests),
the lowest index on a tie.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import simpy

from cosim.errors import CosimInputError
from cosim.serving.requests import Request

ROUTERS = ("round_robin", "least_outstanding")


class Router:
    """Sends each request to one of ``targets`` (objects with ``submit(request)``, ``close()`` and
    ``outstanding_tokens``) by ``policy``."""

    def __init__(self, policy: str, targets: Sequence) -> None:
        if policy not in ROUTERS:
            raise CosimInputError(f"unknown router {policy!r}; allowed: {', '.join(ROUTERS)}")
        if not targets:
            raise CosimInputError("a router needs at least one instance")
        self.policy, self.targets = policy, list(targets)
        self._next = 0

    def pick(self) -> int:
        """Index of the target the next request goes to."""
        if self.policy == "round_robin":
            k = self._next
            self._next = (k + 1) % len(self.targets)
            return k
        loads = [t.outstanding_tokens for t in self.targets]
        return loads.index(min(loads))

    def route(self, req: Request) -> None:
        """Send ``req`` to the picked target."""
        self.targets[self.pick()].submit(req)

    def close(self) -> None:
        """Tell every target that no more requests will come."""
        for t in self.targets:
            t.close()


def arrivals(env: simpy.Environment, times_s: Sequence[float], make: Callable[[int], Request], router: Router):
    """SimPy process: at each time of ``times_s`` (ascending) route ``make(k)``, the k-th request; then close the
    router (its instances finish their work and stop)."""
    for k, at in enumerate(times_s):
        if at > env.now:
            delay = at - env.now
            while env.now + delay < at:  # the clock must not stop a rounding error short of the arrival
                delay = math.nextafter(delay, math.inf)
            yield env.timeout(delay)
        router.route(make(k))
    router.close()
