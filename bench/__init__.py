"""Benchmarks of the whole system on this machine (``scripts/bench``, ``python -m bench``).

Every figure is measured in one run beside its baseline, on a private devnet and API started
for the run. ``run(Plan.full(), output)`` writes ``results.json`` and ``RESULTS.md`` to
``output``; ``Plan.quick()`` is the short run ``scripts/test`` uses to prove the benchmark works.
"""

from bench._runner import SECTIONS, Plan, run

__all__ = ["SECTIONS", "Plan", "run"]
