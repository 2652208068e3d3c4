"""/metrics in Prometheus text format: this server's relay, the queues, and the fleet's counters."""

from __future__ import annotations

import re
from typing import Any, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from redline.jobs.fleet_metrics import FLEET_COUNTERS, METRICS_KEY
from redline.server.refusals import ConnectionCap
from redline.server.services import Services

_FIELD = re.compile(r'^(?P<name>[a-z_]+)(?:\{(?P<labels>.*)\})?$')
_LABEL = re.compile(r'(\w+)="([^"]*)"')


class _Snapshot:
    """Collects from values read just before the scrape (Redis reads are async, collectors are not)."""

    def __init__(self, svc: Services, queues: dict[str, dict[str, int]] | None, fleet: dict[bytes, bytes],
                 redis_up: bool) -> None:
        self.svc, self.queues, self.fleet, self.redis_up = svc, queues, fleet, redis_up

    def collect(self) -> Iterator[Metric]:
        hub = self.svc.hub
        subs = [s for group in hub.channels.values() for s in group]
        yield _gauge("redline_open_sockets", "Websockets open on this server", len(subs))
        yield _gauge("redline_watched_reviews", "Reviews with at least one socket on this server", len(hub.channels))
        yield _gauge("redline_socket_queue_depth_max", "Deepest socket queue on this server (frames)",
                     max((s.depth() for s in subs), default=0))
        yield _gauge("redline_socket_queue_depth_total", "Frames queued for all sockets of this server",
                     sum(s.depth() for s in subs))
        yield _counter("redline_events_relayed", "Pub/sub messages fanned out by this server", hub.relayed)
        yield _counter("redline_frames_prebuilt", "Event frames written to a socket as the hub framed them, once "
                       "for all sockets (the others go through ASGI: a client slow to read, a small compression window)",
                       hub.prebuilt)
        yield _counter("redline_events_dropped", "Frames not queued because a socket was too slow", hub.dropped)
        yield _counter("redline_slow_client_closes", "Sockets closed with 4408", self.svc.slow_closes)
        yield _counter("redline_connections_refused", "Connections answered at once with 429 too_many_connections "
                       "(over REDLINE_WS_MAX_PER_CLIENT + REDLINE_HTTP_MAX_CONNECTIONS_PER_CLIENT)",
                       ConnectionCap.refused_total)
        yield _gauge("redline_redis_up", "1 when Redis answers", 1 if self.redis_up else 0)
        yield _gauge("redline_pubsub_up", "1 when this server's pub/sub connection is live",
                     1 if hub.state == "ok" else 0)
        if self.queues is not None:
            jobs = GaugeMetricFamily("redline_jobs", "Jobs by queue and state", labels=["queue", "state"])
            workers = GaugeMetricFamily("redline_workers", "Live workers by queue", labels=["queue"])
            for name, q in self.queues.items():
                jobs.add_metric([name, "queued"], q["queued"])
                jobs.add_metric([name, "active"], q["active"])
                workers.add_metric([name], q["workers"])
            yield jobs
            yield workers
        families: dict[str, CounterMetricFamily] = {}
        for raw, value in self.fleet.items():
            m = _FIELD.match(raw.decode())
            if not m or m["name"] not in FLEET_COUNTERS:
                continue
            labels = dict(_LABEL.findall(m["labels"] or ""))
            name = m["name"]
            base = name[:-6] if name.endswith("_total") else name
            fam = families.get(name)
            if fam is None:
                fam = families[name] = CounterMetricFamily(base, FLEET_COUNTERS[name], labels=sorted(labels))
            fam.add_metric([labels[k] for k in sorted(labels)], float(value))
        yield from families.values()


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, value=value)


async def render(svc: Services) -> bytes:
    queues: dict[str, Any] | None = None
    fleet: dict[bytes, bytes] = {}
    redis_up = True
    try:
        queues = await svc.jobs.stats()
        fleet = await svc.redis.hgetall(METRICS_KEY)
    except Exception:
        redis_up = False
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(svc, queues, fleet, redis_up))  # type: ignore[arg-type]
    return generate_latest(registry)
