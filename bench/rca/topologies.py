"""The dependency graphs the root-cause benchmark injects faults into.

An edge `caller → callee` means the caller calls or needs the callee; a fault travels the other way,
from a callee to its callers. Online Boutique and Sock Shop are transcribed from
/work/shared/reference/rca-slo-anchors.md section 7 (edges checked there against the projects'
manifests and client code). The social network follows the same section, with the stores named as
in DeathStarBench's docker-compose. Hotel reservation's inner edges are not transcribed there, so its
stores are assumptions, written next to the edges below.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class Graph:
    """A named dependency graph with the two lookups `rca.Topology` asks for."""

    name: str
    down: dict[str, list[str]] = field(default_factory=dict)
    up: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, name: str, edges: Iterable[tuple[str, str]]) -> Graph:
        graph = cls(name)
        for caller, callee in edges:
            graph.add(caller, callee)
        return graph

    def add(self, caller: str, callee: str) -> None:
        if callee in self.down.get(caller, ()):
            return
        self.down.setdefault(caller, []).append(callee)
        self.up.setdefault(callee, []).append(caller)
        self.up.setdefault(caller, [])
        self.down.setdefault(callee, [])

    def dependencies(self, service: str) -> list[str]:
        return self.down.get(service, [])

    def dependents(self, service: str) -> list[str]:
        return self.up.get(service, [])

    @property
    def services(self) -> list[str]:
        return sorted(self.down)

    @property
    def edges(self) -> list[tuple[str, str]]:
        return [(caller, callee) for caller in self.services for callee in self.down[caller]]


def _fan(caller: str, *callees: str) -> list[tuple[str, str]]:
    return [(caller, callee) for callee in callees]


def online_boutique() -> Graph:
    """12 services, 16 edges (microservices-demo at 34ffea9)."""
    return Graph.of(
        "online-boutique",
        [
            ("loadgenerator", "frontend"),
            *_fan(
                "frontend",
                "productcatalogservice",
                "currencyservice",
                "cartservice",
                "recommendationservice",
                "shippingservice",
                "checkoutservice",
                "adservice",
            ),
            *_fan(
                "checkoutservice",
                "cartservice",
                "productcatalogservice",
                "currencyservice",
                "shippingservice",
                "paymentservice",
                "emailservice",
            ),
            ("recommendationservice", "productcatalogservice"),
            ("cartservice", "redis-cart"),
        ],
    )


def sock_shop() -> Graph:
    """14 deployments of complete-demo.yaml; shipping publishes to rabbitmq, queue-master consumes it."""
    return Graph.of(
        "sock-shop",
        [
            *_fan("front-end", "catalogue", "carts", "orders", "user", "session-db"),
            *_fan("orders", "user", "carts", "payment", "shipping", "orders-db"),
            ("shipping", "rabbitmq"),
            ("rabbitmq", "queue-master"),
            ("carts", "carts-db"),
            ("catalogue", "catalogue-db"),
            ("user", "user-db"),
        ],
    )


def social_network() -> Graph:
    """DeathStarBench social network: 11 logic services, nginx-thrift, media-frontend and 13 stores.

    Assumed beyond the anchors: user-mention reads user-memcached/user-mongodb (as its handler does),
    and media-frontend serves from media-memcached/media-mongodb; jaeger is left out (not on a call path).
    """
    return Graph.of(
        "social-network",
        [
            *_fan("nginx-thrift", "compose-post", "home-timeline", "user-timeline", "user", "social-graph"),
            *_fan(
                "compose-post", "text", "media", "unique-id", "user", "post-storage", "user-timeline", "home-timeline"
            ),
            *_fan("text", "url-shorten", "user-mention"),
            *_fan("home-timeline", "post-storage", "social-graph", "home-timeline-redis"),
            *_fan("user-timeline", "post-storage", "user-timeline-redis", "user-timeline-mongodb"),
            *_fan("social-graph", "user", "social-graph-redis", "social-graph-mongodb"),
            *_fan("user", "social-graph", "user-memcached", "user-mongodb"),
            *_fan("post-storage", "post-storage-memcached", "post-storage-mongodb"),
            *_fan("url-shorten", "url-shorten-memcached", "url-shorten-mongodb"),
            *_fan("user-mention", "user-memcached", "user-mongodb"),
            *_fan("media-frontend", "media-memcached", "media-mongodb"),
        ],
    )


def hotel_reservation() -> Graph:
    """DeathStarBench hotel reservation.

    From the anchors: frontend → search, profile, recommendation, reservation, user, review,
    attractions; search → geo, rate. Assumed, after the repo's docker-compose names: profile, rate,
    reservation and review each use a memcached and a mongodb of their own; geo, recommendation, user
    and attractions a mongodb only. consul (service discovery) is left out: it is not on a call path.
    """
    return Graph.of(
        "hotel-reservation",
        [
            *_fan("frontend", "search", "profile", "recommendation", "reservation", "user", "review", "attractions"),
            *_fan("search", "geo", "rate"),
            *_fan("profile", "memcached-profile", "mongodb-profile"),
            *_fan("rate", "memcached-rate", "mongodb-rate"),
            *_fan("reservation", "memcached-reserve", "mongodb-reservation"),
            *_fan("review", "memcached-review", "mongodb-review"),
            ("geo", "mongodb-geo"),
            ("recommendation", "mongodb-recommendation"),
            ("user", "mongodb-user"),
            ("attractions", "mongodb-attractions"),
        ],
    )


LAYER_SHARES = (0.03, 0.12, 0.25, 0.27, 0.21, 0.12)
"""Entry points first, stores last: most services sit in the middle of a call path."""


def generated(services: int, seed: int, mean_callees: float = 2.5, cycles: int | None = None) -> Graph:
    """A layered graph: each service calls 1 + Geometric more services in deeper layers (mostly the next
    one), picked with probability ∝ 1 + callers so far, which gives a power-law fan-in (a few shared
    services that half the estate calls). `cycles` back edges (callee → caller, as user ↔ social-graph)
    close that many cycles; by default one per 200 services."""
    rng = random.Random(f"generated:{services}:{seed}")
    names = [f"svc-{i:05d}" for i in range(services)]
    layers: list[list[str]] = []
    start = 0
    for share in LAYER_SHARES:
        size = max(1, round(share * services))
        layers.append(names[start : start + size])
        start += size
    layers[-1].extend(names[start:])
    graph = Graph(f"generated-{services}-s{seed}")
    # Each service appears once, plus once per caller, in its layer's pool: a uniform pick is preferential.
    pools = [list(layer) for layer in layers]
    another = max(mean_callees - 1.0, 0.0) / max(mean_callees, 1.0)
    for depth, layer in enumerate(layers[:-1]):
        for caller in layer:
            count = 1
            while rng.random() < another and count < 50:
                count += 1
            for _ in range(count):
                target = depth + 1 if rng.random() < 0.75 else rng.randrange(depth + 1, len(layers))
                callee = rng.choice(pools[target])
                if callee not in graph.dependencies(caller):
                    graph.add(caller, callee)
                    pools[target].append(callee)
    for leaf in layers[-1]:
        graph.down.setdefault(leaf, [])
        graph.up.setdefault(leaf, [])
    edges = graph.edges
    for _ in range(services // 200 if cycles is None else cycles):
        caller, callee = rng.choice(edges)
        graph.add(callee, caller)
    return graph


FIXED = {
    "online-boutique": online_boutique,
    "sock-shop": sock_shop,
    "social-network": social_network,
    "hotel-reservation": hotel_reservation,
}
