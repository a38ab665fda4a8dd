"""The command line: ``biostresstest sources list | gemeenten | run | serve``."""

from __future__ import annotations

import sys
from typing import Any

import click
from tqdm import tqdm

from biostresstest import __version__
from biostresstest.core.errors import BiostresstestError
from biostresstest.core.settings import get_settings


class ReportingGroup(click.Group):
    """The main command: a known error of any subcommand is printed as message + hint and
    ends the process with its exit code (no traceback), in this one place."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand; report a known error and exit with its code."""
        try:
            return super().invoke(ctx)
        except BiostresstestError as exc:
            click.echo(f"error: {exc.message}", err=True)
            if exc.hint:
                click.echo(f"  → {exc.hint}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=ReportingGroup)
@click.version_option(__version__, prog_name="biostresstest")
def main() -> None:
    """Biodiversiteitstresstest – kansenkaart voor biodiversiteit (biodiversity stress test)."""


@main.group()
def sources() -> None:
    """The open data sources."""


@sources.command("list")
def sources_list() -> None:
    """Print the sources as a table."""
    from biostresstest.sources.registry import SOURCES

    columns = ("id", "level", "publisher", "licence", "format", "crs", "resolution", "date")
    rows = [[spec.as_row()[c] for c in columns] for spec in SOURCES]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    click.echo("  ".join("-" * w for w in widths))
    for row in rows:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    click.echo("")
    for spec in SOURCES:
        click.echo(
            f"{spec.id}: {spec.title}\n    online: {spec.url}\n    mirror: {spec.mirror_path}"
        )


@main.command()
@click.option("--search", default="", help="Part of a gemeente name.")
def gemeenten(search: str) -> None:
    """List gemeente codes (from the CBS gemeenten 2023)."""
    from biostresstest.sources import cbs_gemeenten
    from biostresstest.sources.base import fetch

    frame = cbs_gemeenten.read_gemeenten(fetch(cbs_gemeenten.SPEC, get_settings()))
    if search:
        frame = cbs_gemeenten.search_gemeenten(frame, search)
    for _, row in frame.sort_values("code").iterrows():
        click.echo(f"{row['code']}  {row['name']}")


@main.command()
@click.option("--gemeente", default=None, help="CBS gemeente code, e.g. GM0758 (Breda).")
@click.option(
    "--area",
    default=None,
    help="A study area: a name (otterlo) or xmin,ymin,xmax,ymax in RD New, computed at 1 m.",
)
@click.option(
    "--cell-size",
    type=float,
    default=None,
    help="Cell size in whole metres for --area (default 1; the BGT is burnt at 1 m).",
)
def run(gemeente: str | None, area: str | None, cell_size: float | None) -> None:
    """Fetch the sources, compute the indicators and publish them for a gemeente or an area."""
    from biostresstest.core.errors import InvalidInput
    from biostresstest.model.study_area import parse_area
    from biostresstest.pipeline import run as gemeente_run
    from biostresstest.pipeline import run_area

    if (gemeente is None) == (area is None):
        raise InvalidInput("give either --gemeente or --area", hint="for example --gemeente GM0758")
    steps = gemeente_run.STEPS if gemeente else run_area.STEPS
    with tqdm(total=len(steps), unit="step", file=sys.stderr, ncols=80) as bar:
        seen: list[str] = []

        def progress(step: str) -> None:
            if seen:
                bar.update(1)
            seen.append(step)
            bar.set_description(step)

        if gemeente is not None:
            summary = gemeente_run.run_gemeente(gemeente, get_settings(), progress=progress)
        else:
            study = parse_area(str(area), cell_size)
            summary = run_area.run_area(study, get_settings(), progress=progress)
        bar.update(1)
    steps_done = summary.manifest["steps"]
    cached = [name for name, entry in steps_done.items() if entry["cached"]]
    click.echo(
        f"{summary.name} ({summary.gemeente}): "
        + ("published" if summary.published else "already up to date")
    )
    if cached:
        click.echo(f"  steps reused from the cache: {', '.join(cached)}")
    click.echo(f"  store: {get_settings().data_dir / 'store' / summary.gemeente}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve the web app (map, API and tiles)."""
    import uvicorn

    from biostresstest.web.app import check_frontend, create_app

    check_frontend()
    click.echo(f"biostresstest on http://{host}:{port}/")
    uvicorn.run(create_app(), host=host, port=port, log_level="warning")


def _register_groups() -> None:
    """The command groups of other modules: ``invest`` (InVEST's models on InVEST's inputs),
    ``report`` (PDF reports), ``admin`` and ``local`` (accounts and the gemeente's own data),
    ``measures`` and ``scenario``. Their errors reach :class:`ReportingGroup`."""
    from biostresstest.admin_cli import admin, local
    from biostresstest.invest_cli import invest
    from biostresstest.measures_cli import measures, scenario
    from biostresstest.reports.cli import report

    for command in (invest, report, admin, local, measures, scenario):
        main.add_command(command)


_register_groups()


if __name__ == "__main__":
    main()
