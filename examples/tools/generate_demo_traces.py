#!/usr/bin/env python3
"""Generate the Acme Shop demo traces: OTLP/JSON exports for 2026-11-27 09:00-10:00Z.

The story: payment v2.14.0 (deployed 09:38Z) switched its Stripe client to a pooled HTTP/2
client. Under Black Friday traffic the pool starves from 09:40Z, so charges wait 1.5-6 s
or time out, payment retries some of them, and checkout (and the storefront's
POST /cart/checkout) turns slow or fails. Browsing stays healthy.

Deterministic: the same seed always writes byte-identical files. Standard library only.
Usage: python examples/tools/generate_demo_traces.py [--out DIR] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Chosen from a scan of seeds 1-80: with ~25 checkouts per 15 minutes the sample is noisy, and this
# seed lands on the intended shape (about half of the checkout attempts after 09:45Z go bad).
SEED = 75
WINDOW_START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
FILE_SPAN = timedelta(minutes=15)
PAYMENT_DEPLOY = datetime(2026, 11, 27, 9, 38, tzinfo=UTC)
PAYMENT_ROLLOUT_SECONDS = 90
POOL_STARVATION_ONSET = datetime(2026, 11, 27, 9, 40, tzinfo=UTC)

MEAN_SECONDS_BETWEEN_REQUESTS = 5.0
USER_POOL_SIZE = 400
BASE_RPC_ERROR_RATE = 0.0005

SERVER, CLIENT, PRODUCER, CONSUMER = 2, 3, 4, 5
GRPC_UNAVAILABLE, GRPC_INTERNAL = 14, 13

OTELGRPC_GO = "go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"

# OTel service.name -> (SDK language, instrumentation scope, version before the payment deploy)
SERVICES = {
    "api-gateway": ("cpp", "envoy", "1.31.4"),
    "frontend": ("go", "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp", "5.23.0"),
    "auth": ("go", OTELGRPC_GO, "3.4.1"),
    "productcatalogservice": ("go", OTELGRPC_GO, "1.31.1"),
    "currencyservice": ("nodejs", "@opentelemetry/instrumentation-grpc", "2.7.0"),
    "cartservice": ("dotnet", "OpenTelemetry.Instrumentation.GrpcNetClient", "4.8.2"),
    "recommendationservice": ("python", "opentelemetry.instrumentation.grpc", "2.18.1"),
    "adservice": ("java", "io.opentelemetry.grpc-1.6", "3.3.0"),
    "checkoutservice": ("go", OTELGRPC_GO, "3.12.0"),
    "paymentservice": ("nodejs", "@opentelemetry/instrumentation-grpc", "2.13.2"),
    "shippingservice": ("go", OTELGRPC_GO, "2.9.0"),
    "emailservice": ("python", "opentelemetry.instrumentation.grpc", "1.12.3"),
    "orders": ("java", "io.opentelemetry.grpc-1.6", "6.1.4"),
    "fraud-check": ("python", "opentelemetry.instrumentation.grpc", "0.42.0"),
    "loyalty": ("python", "opentelemetry.instrumentation.kafka", "2.3.0"),
}
PAYMENT_NEW_VERSION = "2.14.0"

GRPC_SERVICE = {
    "auth": "acmeshop.AuthService",
    "productcatalogservice": "acmeshop.ProductCatalogService",
    "currencyservice": "acmeshop.CurrencyService",
    "cartservice": "acmeshop.CartService",
    "recommendationservice": "acmeshop.RecommendationService",
    "adservice": "acmeshop.AdService",
    "checkoutservice": "acmeshop.CheckoutService",
    "paymentservice": "acmeshop.PaymentService",
    "shippingservice": "acmeshop.ShippingService",
    "emailservice": "acmeshop.EmailService",
    "orders": "acmeshop.OrdersService",
    "fraud-check": "acmeshop.FraudCheckService",
}

# Uninstrumented peers: catalog name -> attributes identifying them on CLIENT spans.
DATASTORES = {
    "redis-cart": {"db.system": "redis", "server.address": "redis-cart"},
    "sessions-redis": {"db.system": "redis", "server.address": "10.61.4.8"},
    "users-db": {"db.system": "postgresql", "db.name": "users", "server.address": "10.61.0.12"},
    "catalog-db": {"db.system": "postgresql", "db.name": "catalog", "server.address": "10.61.0.21"},
    "orders-db": {"db.system": "postgresql", "db.name": "orders", "server.address": "10.61.0.34"},
}

# Request mix at the edge (share of requests): page, method, route.
REQUEST_MIX = [
    (0.22, "home", "GET", "/"),
    (0.33, "product", "GET", "/product/{id}"),
    (0.14, "view_cart", "GET", "/cart"),
    (0.11, "add_to_cart", "POST", "/cart"),
    (0.05, "login", "POST", "/login"),
    (0.15, "checkout", "POST", "/cart/checkout"),
]
CHECKOUT_RETRY_PROBABILITY = 0.25


def to_ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000


WINDOW_START_NS = to_ns(WINDOW_START)
NOW_NS = to_ns(NOW)
PAYMENT_DEPLOY_NS = to_ns(PAYMENT_DEPLOY)
ONSET_NS = to_ns(POOL_STARVATION_ONSET)
MS = 1_000_000


@dataclass
class Span:
    service: str
    version: str
    body: dict


@dataclass(frozen=True)
class User:
    id: str
    session_id: str
    currency: str


@dataclass
class Failure:
    grpc_code: int
    message: str


@dataclass
class Trace:
    sim: Simulation
    trace_id: str
    spans: list[Span] = field(default_factory=list)

    def new_span_id(self) -> str:
        return self.sim.hex_id(64)

    def emit(self, service, span_id, parent_id, name, kind, start, end, attrs, failure=None, version=None):
        body = {"traceId": self.trace_id, "spanId": span_id}
        if parent_id:
            body["parentSpanId"] = parent_id
        body.update(
            {
                "name": name,
                "kind": kind,
                "startTimeUnixNano": str(start),
                "endTimeUnixNano": str(end),
            }
        )
        if attrs:
            body["attributes"] = [attribute(k, v) for k, v in attrs.items()]
        if failure:  # unset status is omitted, as the collector's JSON exporter does
            body["status"] = {"code": 2, "message": failure.message}
        self.spans.append(Span(service, version or SERVICES[service][2], body))


def attribute(key, value):
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


class Simulation:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.users = [
            User(
                f"cust-{self.rng.randrange(100000, 999999)}",
                self.session_id(),
                self.rng.choices(["USD", "EUR", "GBP", "CAD", "JPY"], [75, 11, 6, 5, 3])[0],
            )
            for _ in range(USER_POOL_SIZE)
        ]
        self.traces: list[Trace] = []
        self.checkouts: list[tuple[int, str, int, bool]] = []  # (start ns, user id, duration ns, failed)
        self.pending_loyalty: list[int] = []  # publish times of OrderPlaced events in the current request

    # -- randomness helpers -------------------------------------------------------------
    def hex_id(self, bits: int) -> str:
        return f"{self.rng.getrandbits(bits) | 1:0{bits // 4}x}"

    def session_id(self) -> str:
        alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # ULID-style session ids issued by the frontend
        return "".join(self.rng.choice(alphabet) for _ in range(26))

    def lognormal_ms(self, median_ms: float, sigma: float) -> int:
        return max(50_000, int(median_ms * math.exp(self.rng.gauss(0.0, sigma)) * MS))

    def hop(self) -> int:
        return self.rng.randint(150_000, 600_000)

    def transient_failure(self, service: str) -> Failure | None:
        if self.rng.random() < BASE_RPC_ERROR_RATE:
            return Failure(GRPC_UNAVAILABLE, f"{service}: connection reset by peer (pod terminating)")
        return None

    # -- building blocks ----------------------------------------------------------------
    def rpc(self, tr, caller, parent_id, callee, method, start, handler, caller_version=None):
        """A gRPC call: CLIENT span in the caller, child SERVER span in the callee."""
        client_id, server_id = tr.new_span_id(), tr.new_span_id()
        server_start = start + self.hop()
        server_end, failure, version = handler(tr, server_id, server_start)
        client_end = server_end + self.hop()
        name = f"{GRPC_SERVICE[callee]}/{method}"
        # The collector's attributes processor strips rpc.* from OK spans to cut export volume.
        status_attrs = {"rpc.grpc.status_code": failure.grpc_code} if failure else {}
        tr.emit(callee, server_id, client_id, name, SERVER, server_start, server_end, status_attrs, failure, version)
        tr.emit(caller, client_id, parent_id, name, CLIENT, start, client_end, status_attrs, failure, caller_version)
        return client_end, failure

    def datastore(self, tr, caller, parent_id, store, operation, start, median_ms, sigma=0.4):
        end = start + self.lognormal_ms(median_ms, sigma)
        attrs = {"peer.service": store, **DATASTORES[store]}
        tr.emit(caller, tr.new_span_id(), parent_id, operation, CLIENT, start, end, attrs)
        return end

    def leaf(self, service, median_ms, sigma=0.35):
        def handler(tr, span_id, start):
            return start + self.lognormal_ms(median_ms, sigma), self.transient_failure(service), None

        return handler

    # -- services -----------------------------------------------------------------------
    def catalog_get_product(self, tr, span_id, start):
        t = start + self.lognormal_ms(0.6, 0.3)
        if self.rng.random() < 0.12:  # 60 s in-process cache
            t = self.datastore(tr, "productcatalogservice", span_id, "catalog-db", "SELECT catalog.products", t, 2.4)
        return t + self.lognormal_ms(0.3, 0.3), self.transient_failure("productcatalogservice"), None

    def catalog_list_products(self, tr, span_id, start):
        t = start + self.lognormal_ms(1.5, 0.3)
        if self.rng.random() < 0.10:
            t = self.datastore(tr, "productcatalogservice", span_id, "catalog-db", "SELECT catalog.products", t, 7.5)
        return t + self.lognormal_ms(2.0, 0.3), self.transient_failure("productcatalogservice"), None

    def recommendation_list(self, tr, span_id, start):
        t = start + self.lognormal_ms(3.0, 0.4)
        if self.rng.random() < 0.2:  # product list cached in-process for 30 s
            t, failure = self.rpc(
                tr,
                "recommendationservice",
                span_id,
                "productcatalogservice",
                "ListProducts",
                t,
                self.catalog_list_products,
            )
            if failure:
                return t + MS, None, None  # falls back to best sellers; the page still renders
        return t + self.lognormal_ms(9.0, 0.45), self.transient_failure("recommendationservice"), None

    def cart_op(self, command, median_ms=0.7):
        def handler(tr, span_id, start):
            t = start + self.lognormal_ms(0.4, 0.3)
            t = self.datastore(tr, "cartservice", span_id, "redis-cart", command, t, median_ms, 0.35)
            return t + self.lognormal_ms(0.3, 0.3), self.transient_failure("cartservice"), None

        return handler

    def auth_login(self, tr, span_id, start):
        t = start + self.lognormal_ms(0.5, 0.3)
        t = self.datastore(tr, "auth", span_id, "users-db", "SELECT users.credentials", t, 2.8)
        t += self.lognormal_ms(190.0, 0.12)  # bcrypt(12) verification
        t = self.datastore(tr, "auth", span_id, "sessions-redis", "SET", t, 0.6)
        return t + self.lognormal_ms(0.4, 0.3), self.transient_failure("auth"), None

    def shipping_quote(self, tr, span_id, start):
        # UPS rating API maintenance: quotes are slower than usual all morning (silenced alert).
        return start + self.lognormal_ms(95.0, 0.85), self.transient_failure("shippingservice"), None

    def payment_version(self, t_ns: int) -> str:
        rolled = (t_ns - PAYMENT_DEPLOY_NS) / (PAYMENT_ROLLOUT_SECONDS * 1e9)
        return PAYMENT_NEW_VERSION if self.rng.random() < rolled else SERVICES["paymentservice"][2]

    def starvation_share(self, t_ns: int) -> float:
        minutes = (t_ns - ONSET_NS) / 60e9
        if minutes < 0:
            return 0.0
        ramp = min(1.0, 0.25 + 0.75 * minutes / 2.5)
        return ramp * (0.66 + 0.06 * math.sin(minutes / 2.3))

    def stripe_call(self, tr, span_id, start, version):
        attrs = {"peer.service": "payment-gateway", "server.address": "api.stripe.com", "http.request.method": "POST"}
        failure, http_status = None, 200
        pooled = version == PAYMENT_NEW_VERSION and self.rng.random() < self.starvation_share(start)
        if pooled:
            took = int(math.exp(self.rng.uniform(math.log(1500), math.log(6000))) * MS)
            if took > 5000 * MS:
                took = 5000 * MS + self.rng.randint(0, 40 * MS)
                failure = Failure(GRPC_UNAVAILABLE, "ETIMEDOUT: request to api.stripe.com timed out after 5000 ms")
                http_status = None
                attrs["error.type"] = "timeout"
            elif self.rng.random() < 0.15:
                took = 3000 * MS + self.rng.randint(0, 25 * MS)
                failure = Failure(
                    GRPC_UNAVAILABLE, "PoolTimeoutError: no HTTP/2 stream available within 3000 ms (pool max 8)"
                )
                http_status = None
                attrs["error.type"] = "PoolTimeoutError"
        elif version == PAYMENT_NEW_VERSION and start >= ONSET_NS:
            took = self.lognormal_ms(240.0, 0.35)
        else:
            took = self.lognormal_ms(180.0, 0.3)
            if self.rng.random() < 0.0015:
                failure, http_status = Failure(GRPC_UNAVAILABLE, "Stripe API returned 502 Bad Gateway"), 502
                attrs["error.type"] = "502"
        if http_status:  # a request that timed out never got a response
            attrs["http.response.status_code"] = http_status
        end = start + took
        tr.emit(
            "paymentservice",
            tr.new_span_id(),
            span_id,
            "POST /v1/payment_intents",
            CLIENT,
            start,
            end,
            attrs,
            failure,
            version,
        )
        return end, failure

    def payment_charge(self, tr, span_id, start):
        version = self.payment_version(start)
        t = start + self.lognormal_ms(1.0, 0.3)
        t, _ = self.rpc(
            tr, "paymentservice", span_id, "fraud-check", "Score", t, self.fraud_score, caller_version=version
        )  # fails open: a scoring error never blocks a charge
        t += self.lognormal_ms(0.8, 0.3)
        t, failure = self.stripe_call(tr, span_id, t, version)
        retries_on = version == PAYMENT_NEW_VERSION
        if failure and retries_on and t - start < 6000 * MS and self.rng.random() < 0.6:
            t += self.rng.randint(100, 250) * MS
            t, failure = self.stripe_call(tr, span_id, t, version)
        if failure:
            failure = Failure(GRPC_UNAVAILABLE, f"stripe charge failed: {failure.message}")
        return t + self.lognormal_ms(1.2, 0.3), failure, version

    def fraud_score(self, tr, span_id, start):
        return start + self.lognormal_ms(21.0, 0.35), self.transient_failure("fraud-check"), None

    def orders_create(self, tr, span_id, start):
        t = start + self.lognormal_ms(1.5, 0.3)
        t = self.datastore(tr, "orders", span_id, "orders-db", "INSERT orders.orders", t, 4.2)
        produce_start = t + self.lognormal_ms(0.3, 0.3)
        produce_end = produce_start + self.lognormal_ms(6.0, 0.3)  # linger.ms=5
        tr.emit(
            "orders",
            tr.new_span_id(),
            span_id,
            "order-events publish",
            PRODUCER,
            produce_start,
            produce_end,
            {"messaging.system": "kafka", "messaging.destination.name": "order-events", "peer.service": "order-events"},
        )
        self.pending_loyalty.append(produce_end)
        return produce_end + self.lognormal_ms(0.8, 0.3), self.transient_failure("orders"), None

    def checkout_place_order(self, user: User):
        def handler(tr, span_id, start):
            t = start + self.lognormal_ms(0.8, 0.3)
            t, fail = self.rpc(tr, "checkoutservice", span_id, "cartservice", "GetCart", t, self.cart_op("HGETALL"))
            steps = [("productcatalogservice", "GetProduct", self.catalog_get_product)] * self.rng.choice(
                [1, 1, 1, 1, 1, 2, 2, 3]
            )
            if user.currency != "USD":
                steps.append(("currencyservice", "Convert", self.leaf("currencyservice", 1.4)))
            steps += [
                ("shippingservice", "GetQuote", self.shipping_quote),
                ("paymentservice", "Charge", self.payment_charge),
                ("shippingservice", "ShipOrder", self.leaf("shippingservice", 32.0, 0.4)),
                ("orders", "CreateOrder", self.orders_create),
                ("cartservice", "EmptyCart", self.cart_op("DEL", 0.5)),
            ]
            for callee, method, step in steps:
                if fail:
                    break
                t, fail = self.rpc(tr, "checkoutservice", span_id, callee, method, t, step)
            if fail:
                message = f"failed to place order: rpc error: code = Unavailable desc = {fail.message}"
                return t + self.lognormal_ms(0.5, 0.3), Failure(GRPC_INTERNAL, message), None
            # Confirmation email is best effort: the email service queues and retries on its own.
            t, _ = self.rpc(
                tr,
                "checkoutservice",
                span_id,
                "emailservice",
                "SendOrderConfirmation",
                t,
                self.leaf("emailservice", 24.0, 0.4),
            )
            return t + self.lognormal_ms(0.6, 0.3), None, None

        return handler

    # -- one user request -----------------------------------------------------------------
    def page_calls(self, page: str, user: User):
        """The backend calls the storefront makes for one page. The currency list is cached in
        the frontend; prices are converted only for shoppers who do not browse in USD."""
        convert = [("currencyservice", "Convert", self.leaf("currencyservice", 1.4))] if user.currency != "USD" else []
        if page == "home":
            return [
                ("productcatalogservice", "ListProducts", self.catalog_list_products),
                *convert,
                ("adservice", "GetAds", self.leaf("adservice", 3.5, 0.4)),
            ]
        if page == "product":
            return [
                ("productcatalogservice", "GetProduct", self.catalog_get_product),
                *convert,
                ("recommendationservice", "ListRecommendations", self.recommendation_list),
            ]
        if page == "view_cart":
            return [
                ("cartservice", "GetCart", self.cart_op("HGETALL")),
                ("shippingservice", "GetQuote", self.shipping_quote),
                *convert,
            ]
        if page == "add_to_cart":
            return [("cartservice", "AddItem", self.cart_op("HSET", 0.8))]
        if page == "login":
            return [("auth", "Login", self.auth_login)]
        return [("checkoutservice", "PlaceOrder", self.checkout_place_order(user))]

    def frontend_request(self, tr, span_id, start, page, user):
        t = start + self.lognormal_ms(0.6, 0.3)
        failure = None
        for callee, method, handler in self.page_calls(page, user):
            t, failure = self.rpc(tr, "frontend", span_id, callee, method, t, handler)
            if failure:
                break
        render = {"home": 4.0, "product": 3.0, "view_cart": 2.5, "checkout": 2.0}.get(page, 0.5)
        return t + self.lognormal_ms(render, 0.3), failure

    def user_request(self, start_ns: int, user: User, page: str, method: str, route: str) -> bool:
        """Simulate one request through the edge; True when it was a checkout that failed."""
        tr = Trace(self, self.hex_id(128))
        self.pending_loyalty = []
        gw_server, gw_client, fe_server = tr.new_span_id(), tr.new_span_id(), tr.new_span_id()
        gw_client_start = start_ns + self.lognormal_ms(0.25, 0.3)
        fe_start = gw_client_start + self.hop()
        fe_end, failure = self.frontend_request(tr, fe_server, fe_start, page, user)
        status = 500 if failure else (302 if method == "POST" and page != "checkout" else 200)
        fe_failure = None
        if failure:
            fe_failure = Failure(
                GRPC_INTERNAL, "failed to complete the order" if page == "checkout" else "failed to render page"
            )
        tr.emit(
            "frontend",
            fe_server,
            gw_client,
            f"{method} {route}",
            SERVER,
            fe_start,
            fe_end,
            {
                "http.request.method": method,
                "http.route": route,
                "http.response.status_code": status,
                "enduser.id": user.id,
                "session.id": user.session_id,
            },
            fe_failure,
        )
        gw_client_end = fe_end + self.hop()
        tr.emit(
            "api-gateway",
            gw_client,
            gw_server,
            "router frontend egress",
            CLIENT,
            gw_client_start,
            gw_client_end,
            {},
            fe_failure,
        )
        gw_end = gw_client_end + self.lognormal_ms(0.2, 0.3)
        tr.emit(
            "api-gateway",
            gw_server,
            None,
            "ingress",
            SERVER,
            start_ns,
            gw_end,
            {"http.response.status_code": status},
            fe_failure,
        )
        if gw_end > NOW_NS:
            return False  # still in flight at the end of the export window
        self.traces.append(tr)
        for published in self.pending_loyalty:
            self.loyalty_consume(published)
        if page == "checkout":
            self.checkouts.append((start_ns, user.id, fe_end - fe_start, failure is not None))
        return page == "checkout" and failure is not None

    def loyalty_consume(self, published_ns: int):
        start = published_ns + self.lognormal_ms(120.0, 0.6)
        end = start + self.lognormal_ms(11.0, 0.4)
        if end > NOW_NS:
            return
        tr = Trace(self, self.hex_id(128))
        tr.emit(
            "loyalty",
            tr.new_span_id(),
            None,
            "order-events process",
            CONSUMER,
            start,
            end,
            {
                "messaging.system": "kafka",
                "messaging.destination.name": "order-events",
                "messaging.consumer.group.name": "loyalty-points",
                "peer.service": "order-events",
            },
        )
        self.traces.append(tr)

    def run(self):
        t = WINDOW_START_NS + self.rng.randint(0, 2000) * MS
        retries: list[tuple[int, User]] = []
        weights = [w for w, *_ in REQUEST_MIX]
        while t < NOW_NS or retries:
            if retries and (retries[0][0] <= t or t >= NOW_NS):
                start, user = retries.pop(0)
                if start >= NOW_NS:
                    continue
                page, method, route = "checkout", "POST", "/cart/checkout"
            else:
                start, user = t, self.rng.choice(self.users)
                _, page, method, route = self.rng.choices(REQUEST_MIX, weights)[0]
                t += int(self.rng.expovariate(1.0 / MEAN_SECONDS_BETWEEN_REQUESTS) * 1e9)
            checkout_failed = self.user_request(start, user, page, method, route)
            if checkout_failed and self.rng.random() < CHECKOUT_RETRY_PROBABILITY:
                retries.append((start + self.rng.randint(20, 90) * 1_000_000_000, user))
                retries.sort(key=lambda item: item[0])


def export(traces: list[Trace], out_dir: Path) -> list[tuple[Path, int]]:
    buckets: dict[int, list[Trace]] = {}
    file_ns = int(FILE_SPAN.total_seconds()) * 1_000_000_000
    for tr in traces:
        root_start = min(int(s.body["startTimeUnixNano"]) for s in tr.spans)
        buckets.setdefault((root_start - WINDOW_START_NS) // file_ns, []).append(tr)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for index in range(int((NOW - WINDOW_START) / FILE_SPAN)):
        by_resource: dict[tuple[str, str], list[dict]] = {}
        for tr in buckets.get(index, []):
            for span in tr.spans:
                by_resource.setdefault((span.service, span.version), []).append(span.body)
        resource_spans = []
        service_order = list(SERVICES)
        # One resource per service; paymentservice gets two in the file where 2.14.0 rolls out.
        for (service, version), spans in sorted(
            by_resource.items(), key=lambda item: (service_order.index(item[0][0]), item[0][1])
        ):
            language, scope, _ = SERVICES[service]
            spans.sort(key=lambda s: (int(s["startTimeUnixNano"]), s["spanId"]))
            resource_spans.append(
                {
                    "resource": {
                        "attributes": [
                            attribute(k, v)
                            for k, v in {
                                "service.name": service,
                                "service.namespace": "shop",
                                "service.version": version,
                                "deployment.environment": "prod",
                                "k8s.namespace.name": "shop",
                                "k8s.cluster.name": "prod-us-east1",
                                "telemetry.sdk.language": language,
                            }.items()
                        ]
                    },
                    "scopeSpans": [{"scope": {"name": scope}, "spans": spans}],
                }
            )
        stamp = (WINDOW_START + index * FILE_SPAN).strftime("%Y-%m-%dT%H%M")
        path = out_dir / f"{stamp}.json"
        text = json.dumps({"resourceSpans": resource_spans}, separators=(",", ":"))
        path.write_text(text + "\n", encoding="utf-8")
        written.append((path, len(text) + 1))
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "acme-shop" / "traces")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    sim = Simulation(args.seed)
    sim.run()
    written = export(sim.traces, args.out)
    spans = sum(len(tr.spans) for tr in sim.traces)
    total = sum(size for _, size in written)
    print(
        f"wrote {len(written)} files, {len(sim.traces)} traces, {spans} spans, {total / 1e6:.2f} MB to {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
