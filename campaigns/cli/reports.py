"""`chorus reports`: import hate crime reporting figures and check what is stored.

"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer

from campaigns.cli.runtime import fail, runtime
from campaigns.core.clock import utcnow
from campaigns.formats.reports.values import ReportsInvalid
from campaigns.storage import db
from campaigns.storage.reports import ImportResult, Summary, import_report_file, summarise

#: Problems printed before the rest are only counted.
SHOWN_PROBLEMS = 50

reports_app: typer.Typer = typer.Typer(
    help="Hate crime reporting figures: import them from files, check what is stored.",
    no_args_is_help=True,
)


@reports_app.command("import")
def reports_import(
    file: Annotated[Path, typer.Argument(
        help="A .csv, .xlsx or .ods file: the long format (period_start, period_end, area, "
             "strand, source, count), a Home Office table, or a per-strand table; see "
             "content/reports/README.md.", dir_okay=False)],
    source: Annotated[str | None, typer.Option(
        help="Where the figures come from, e.g. police-recorded, third-party-centre (default "
             "for Home Office and per-strand tables: police-recorded).")] = None,
    citation: Annotated[str | None, typer.Option(
        help="Where the figures were published (default: the file's '# citation:' line).",
    )] = None,
) -> None:
    """Check a file of reporting counts and store them all, or none if anything is wrong."""

    with runtime() as rt:
        try:
            with db.transaction(rt.sessions) as session:
                result = import_report_file(file, session=session, now=utcnow(),
                                            source=source, citation=citation,
                                            imported_by=_os_user())
        except ReportsInvalid as exc:
            for problem in exc.problems[:SHOWN_PROBLEMS]:
                typer.secho(str(problem), fg=typer.colors.RED, err=True)
            if len(exc.problems) > SHOWN_PROBLEMS:
                typer.secho(f"... and {len(exc.problems) - SHOWN_PROBLEMS} more",
                            fg=typer.colors.RED, err=True)
            raise fail(str(exc)) from None
    _print_result(result)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""


def _print_result(result: ImportResult) -> None:
    span = (f"{result.first_day.isoformat()} to {result.last_day.isoformat()}"
            if result.first_day and result.last_day else "no periods")
    label = " SYNTHETIC (made-up figures)" if result.synthetic else ""
    if result.already_imported:
        typer.echo(f"{result.file}: already imported as dataset {result.dataset_id} "
                   f"({result.counts} counts, {span}); nothing changed")
        return
    typer.echo(f"{result.file}: {result.counts} counts imported from {result.data_rows} rows "
               f"as dataset {result.dataset_id}{label}")
    typer.echo(f"  layout {result.layout}; source {result.source}; "
               f"{', '.join(result.areas)}; {span}")
    for sheet in result.skipped_sheets:
        typer.echo(f"  note: sheet {sheet!r} skipped: no header of a known layout")
    typer.echo("  check the totals with: chorus reports summary")


@reports_app.command("summary")
def reports_summary(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Totals by source, area, year and strand, so an import can be checked."""

    with runtime() as rt, rt.sessions() as session:
        summary = summarise(session=session)
    if as_json:
        typer.echo(json.dumps(summary.to_json(), indent=2, ensure_ascii=False))
    elif not summary.datasets:
        typer.echo("no reporting figures; import some with: chorus reports import FILE")
    else:
        typer.echo(_text(summary))


def _text(summary: Summary) -> str:
    lines = ["datasets:"]
    for d in summary.datasets:
        mark = "  SYNTHETIC" if d.synthetic else ""
        lines.append(f"  {d.id}  {d.file}  ({d.layout}, {d.source}, {d.counts} counts){mark}")
        if d.citation:
            lines.append(f"      source: {d.citation}")
    lines += ["", "totals (year: the calendar year a period starts in; each strand and measure "
                  "is its own total, never added into offences):"]
    columns = ("source", "area", "year", "strand", "measure", "count", "periods", "synthetic")
    rows = [(t.source, t.area, str(t.year), t.strand, t.measure, str(t.count), str(t.periods),
             "SYNTHETIC" if t.synthetic else "") for t in summary.totals]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    lines += ["  " + "  ".join(v.rjust(w) if v.isdigit() else v.ljust(w)
                               for v, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(line.rstrip() for line in lines)
