"""Root-cause benchmark: a seeded fault simulator over reference topologies, RCAEval's AC@k/Avg@5,
chance and three baselines against `opscontext_mcp.analysis.rca`. Run with `python -m bench.rca`."""
