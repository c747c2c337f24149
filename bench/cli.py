"""`python -m bench`, run by `scripts/bench`: measure this machine; write results.json and RESULTS.md."""

from __future__ import annotations

from pathlib import Path

import click

from bench.local_system import CHECKOUT


@click.command("bench")
@click.option("--quick", is_flag=True, help="a short run (under 2 minutes) that proves the benchmark works")
@click.option("--scale", is_flag=True,
              help="the system at a city's size instead (1M and 10M audit entries, 10M consents, PostgreSQL with one "
                   "and two instances, 1M consents on the devnet); with --quick, at small sizes")
@click.option("--scale-section", "scale_sections", multiple=True,
              type=click.Choice(["log", "consents", "postgres", "devnet", "audit"]),
              help="with --scale: run only these parts (repeatable; default: all)")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="directory for results.json and RESULTS.md (default: bench/, or build/bench-quick with --quick)")
@click.option("--section", "sections", multiple=True,
              type=click.Choice(["release", "revocation", "grants", "audit", "verify", "scaling"]),
              help="run only these sections (repeatable; default: all)")
@click.option("--profile/--no-profile", default=None,
              help="py-spy profiles of the hot paths in extra runs (default: on for full runs, off for --quick)")
@click.option("--keep", is_flag=True, help="keep the run's data dir under bench/tmp/ (logs, databases)")
def command(quick: bool, scale: bool, scale_sections: tuple[str, ...], output: Path | None, sections: tuple[str, ...],
            profile: bool | None, keep: bool) -> None:
    """Measure releases, grants, the audit log, verification, revocation and scaling on this machine."""
    import bench

    if scale:
        from bench import _scale

        output = (output or CHECKOUT / ("build/bench-scale-quick" if quick else "bench")).resolve()
        plan = _scale.ScalePlan.quick() if quick else _scale.ScalePlan.full()
        results = _scale.run(plan, output, sections=scale_sections or _scale.SCALE_SECTIONS,
                             log=lambda message: click.echo(message, err=True))
        met = [t for t in results["targets"] if t["met"]]
        click.echo(f"bench --scale: {len(met)} of {len(results['targets'])} targets met; wrote "
                   f"{output / 'results.json'} and {output / 'RESULTS.md'}")
        return

    plan = bench.Plan.quick() if quick else bench.Plan.full()
    if profile is not None:
        plan = bench.Plan.quick(profile) if quick else bench.Plan.full(profile)
    output = (output or CHECKOUT / ("build/bench-quick" if quick else "bench")).resolve()
    results = bench.run(plan, output, sections=sections or bench.SECTIONS, keep=keep,
                        log=lambda message: click.echo(message, err=True))
    met = [t for t in results["targets"] if t["met"]]
    click.echo(f"bench: {len(met)} of {len(results['targets'])} targets met in {results['runtime_s']:.0f} s; "
               f"wrote {output / 'results.json'} and {output / 'RESULTS.md'}")
