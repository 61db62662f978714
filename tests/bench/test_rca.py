from __future__ import annotations

from dataclasses import replace

import pytest

from bench.rca import baselines, method
from bench.rca.__main__ import best_baseline, evaluate
from bench.rca.score import Scores, ac_at, avg_at, chance_ac_at
from bench.rca.simulate import FAULTS, SATURATION, T0, Alert, Case, simulate
from bench.rca.topologies import Graph, generated, hotel_reservation, online_boutique, sock_shop
from opscontext_mcp.analysis.symptoms import is_internal_symptom


def test_ac_at_k_is_the_share_of_cases_whose_root_is_in_the_top_k() -> None:
    rankings = [["a", "b", "c"], ["b", "a"], ["c", "b", "a"], []]
    roots = ["a", "a", "a", "a"]
    assert [ac_at(rankings, roots, k) for k in (1, 2, 3)] == [0.25, 0.5, 0.75]


def test_avg_at_5_is_the_mean_of_ac_at_1_to_5() -> None:
    rankings = [["x", "y", "r"], ["r"]]
    # AC@1..5 = 0.5, 0.5, 1, 1, 1
    assert avg_at(rankings, ["r", "r"]) == pytest.approx(0.8)
    assert Scores.of(rankings, ["r", "r"]) == Scores(ac1=0.5, ac3=1.0, avg5=pytest.approx(0.8))


def test_chance_is_k_over_the_universe_and_zero_when_the_root_is_outside_it() -> None:
    assert chance_ac_at(4, True, 1) == 0.25 and chance_ac_at(4, True, 5) == 1.0
    assert chance_ac_at(4, False, 3) == 0.0
    assert Scores.chance([(4, True), (2, False)]).ac1 == pytest.approx(0.125)


def test_pagerank_matches_networkx_reference_power_iteration() -> None:
    import networkx as nx
    from networkx.algorithms.link_analysis.pagerank_alg import _pagerank_python

    graph = nx.DiGraph([("a", "b"), ("b", "c"), ("a", "c"), ("c", "a"), ("d", "c")])
    graph.add_node("leaf")
    weights = {"a": 1.0, "d": 3.0}
    reference = _pagerank_python(graph, alpha=0.85, personalization=weights, tol=1e-12)
    ours = baselines.pagerank(list(graph.nodes), list(graph.edges), weights, tolerance=1e-12)
    assert ours == pytest.approx(reference, abs=1e-8)


def _case(graph: Graph, alerting: dict[str, int], edge_errors: dict[tuple[str, str], float]) -> Case:
    """A simulated case on `graph` with its alerts and traces replaced: `alerting` maps service → alert count."""
    alerts = tuple(
        Alert(f"{service}:{i}", service, "ErrorRateHigh", T0, "warning", 4.0, False, "victim")
        for service, count in alerting.items()
        for i in range(count)
    )
    return replace(simulate(graph, 0), alerts=alerts, edge_errors=edge_errors)


def test_edge_errors_ranks_calls_in_failing_more_than_calls_out_first_then_alert_count() -> None:
    graph = Graph.of("chain", [("web", "api"), ("api", "db"), ("api", "cache"), ("web", "auth")])
    errors = {("web", "api"): 0.30, ("api", "db"): 0.25, ("api", "cache"): 0.01, ("web", "auth"): 0.01}
    case = _case(graph, {"web": 1, "api": 1, "auth": 2}, errors)
    # db: 0.25 in, nothing out; api: 0.30 - 0.25; auth and cache: 0.01; web: 0 - 0.30.
    assert baselines.edge_errors(case, graph) == ["db", "api", "auth", "cache", "web"]


def test_pagerank_baseline_walks_the_alerting_services_only_then_the_rest_of_the_universe() -> None:
    graph = Graph.of("fan", [("web", "api"), ("api", "db"), ("api", "cache"), ("web", "auth")])
    case = _case(graph, {"web": 3, "api": 1}, {})
    ranking = baselines.personalized_pagerank(case, graph)
    # Over the whole universe the walk would carry api's mass on to db and cache; on the anomalous subgraph
    # api is a dead end and keeps it, so it comes first despite web's louder anomaly.
    assert ranking[:2] == ["api", "web"]
    assert sorted(ranking[2:]) == ["auth", "cache", "db"]
    assert ranking[2:] == [s for s in baselines.alert_count(case, graph) if s in ("auth", "cache", "db")]


def test_online_boutique_is_the_twelve_services_and_sixteen_edges_of_the_reference() -> None:
    graph = online_boutique()
    assert len(graph.services) == 12 and len(graph.edges) == 16
    assert ("checkoutservice", "paymentservice") in graph.edges and ("cartservice", "redis-cart") in graph.edges


def test_the_simulator_is_deterministic_per_seed_and_seeds_differ() -> None:
    graph = sock_shop()
    assert simulate(graph, 7) == simulate(graph, 7)
    assert len({(simulate(graph, s).root, simulate(graph, s).fault) for s in range(20)}) > 5


def test_the_root_is_in_the_ground_truth_as_the_strongest_affected_service() -> None:
    graph = hotel_reservation()
    for seed in range(50):
        case = simulate(graph, seed)
        assert case.root in graph.services and case.fault in FAULTS
        assert case.root in case.strength and set(case.strength) <= set(graph.services)


def test_about_a_fifth_of_true_alerts_are_dropped_and_noise_is_about_a_fifth_of_them() -> None:
    graph = generated(300, seed=3)
    cases = [simulate(graph, seed) for seed in range(300)]
    true_alerts = sum(c.true_alerts for c in cases)
    assert 0.15 <= sum(c.dropped for c in cases) / true_alerts <= 0.25
    assert 0.15 <= sum(c.noise for c in cases) / true_alerts <= 0.25
    firsts = [a for c in cases for a in c.alerts if not a.key.endswith(":again")]
    assert sum(a.origin == "noise" for a in firsts) == sum(c.noise for c in cases)
    assert 0.05 <= sum(a.key.endswith(":again") for c in cases for a in c.alerts) / len(firsts) <= 0.15


def test_the_blind_spot_never_alerts_even_when_it_is_the_root() -> None:
    graph = online_boutique()
    cases = [simulate(graph, seed) for seed in range(300)]
    assert len({c.blind_spot for c in cases}) == 1
    assert all(a.service != c.blind_spot for c in cases for a in c.alerts)
    assert any(c.root == c.blind_spot and c.alerts for c in cases)


def test_a_fifth_of_victims_show_a_saturation_symptom_and_the_names_read_as_the_product_reads_them() -> None:
    graph = sock_shop()
    cases = [simulate(graph, seed) for seed in range(300)]
    alerts = [a for c in cases for a in c.alerts]
    assert all(a.name in SATURATION for a in alerts if a.origin == "victim" and a.internal)
    assert all(is_internal_symptom(a.name) == a.internal for a in alerts)
    assert any(a.internal for a in alerts if a.origin == "root")
    victims = sum(len(set(c.strength) - {c.root, c.blind_spot}) for c in cases)
    saturated = sum(len({a.service for a in c.alerts if a.name in SATURATION and a.origin == "victim"}) for c in cases)
    # 25 % raise one, and a fifth of those alerts are dropped.
    assert 0.14 <= saturated / victims <= 0.26


def test_about_a_fifth_of_affected_callers_fail_more_on_calls_in_than_on_calls_out() -> None:
    graph = generated(300, seed=3)
    callers = amplified = 0
    for seed in range(300):
        case = simulate(graph, seed)
        for service in set(case.strength) - {case.root}:
            into = [r for (_, callee), r in case.edge_errors.items() if callee == service]
            out = [
                r for (caller, callee), r in case.edge_errors.items() if caller == service and callee in case.strength
            ]
            if into and out:
                callers += 1
                amplified += max(into) > max(out)
    assert callers > 500
    assert 0.12 <= amplified / callers <= 0.3


def test_calls_into_the_root_fail_more_than_background() -> None:
    graph = online_boutique()
    elevated = 0
    for seed in range(60):
        case = simulate(graph, seed)
        into_root = [r for (_, callee), r in case.edge_errors.items() if callee == case.root]
        elsewhere = [r for (_, callee), r in case.edge_errors.items() if callee not in case.strength]
        assert all(r <= 0.02 for r in elsewhere)
        elevated += any(r >= 0.05 for r in into_root)
    assert elevated >= 30


def test_a_small_online_boutique_run_beats_chance_and_ranks_candidates_without_repeats() -> None:
    graph = online_boutique()
    cases = [simulate(graph, seed) for seed in range(20)]
    scores, by_fault = evaluate(graph, cases)
    ours = scores["ours (rca.analyse)"]
    assert ours.ac1 > scores["chance"].ac1 + 0.3 and ours.avg5 > scores["chance"].avg5
    assert set(baselines.BASELINES) < set(scores) and "edge errors" in baselines.BASELINES
    name, best = best_baseline(scores)
    assert name in baselines.BASELINES and best.ac1 == max(scores[b].ac1 for b in baselines.BASELINES)
    assert set(by_fault) <= set(FAULTS)
    ranking = method.ranking(cases[0], graph)
    assert len(ranking) == len(set(ranking))
