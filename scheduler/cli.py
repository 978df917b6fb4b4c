"""The `ofsted-watch` command: a thin click layer over the library.

This is the only place that catches MonitorError: it prints one `Error: ...` line and exits 2.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from crawler.errors import ConfigError, MonitorError, ParseError, StorageError
from crawler.records import EVENT_TYPES, STATUSES
from scheduler import views
from scheduler.config import Config, config_path, load_config
from scheduler.logs import configure_logging

F = TypeVar("F", bound=Callable[..., Any])
CONTEXT = {"help_option_names": ["-h", "--help"]}


def fails_cleanly(func: F) -> F:
    """Turn a MonitorError into one `Error:` line and exit code 2, or 3 when the database is
    unavailable (a traceback with -vv)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MonitorError as exc:
            if logging.getLogger().isEnabledFor(logging.DEBUG):
                raise
            click.echo(f"Error: {exc}", err=True)
            sys.exit(3 if isinstance(exc, StorageError) else 2)

    return wrapper  # type: ignore[return-value]


def _config(ctx: click.Context) -> Config:
    path = config_path(ctx.obj["config"], os.environ)
    return load_config(path)


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="ofsted-watch")
@click.option(
    "--config",
    "config",
    metavar="PATH",
    help="Config file [env OFSTED_WATCH_CONFIG; default ./ofsted-watch.toml].",
)
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="-v: what each pass does (INFO); -vv: debug and tracebacks; -vvv: libraries too.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    help="One line per event as key=value text, or JSON.",
)
@click.pass_context
def cli(ctx: click.Context, config: str | None, verbose: int, log_format: str) -> None:
    """Know first when Ofsted's judgement on a council's children's services changes.

    \b
    Example:
      ofsted-watch --config ofsted-watch.toml run
    """
    ctx.ensure_object(dict)
    ctx.obj["config"] = config
    configure_logging(verbosity=verbose, json_lines=log_format == "json")


@cli.command(context_settings=CONTEXT)
@click.option("--all", "all_sources", is_flag=True, help="Crawl every source, due or not.")
@click.option("--dry-run", is_flag=True, help="Render every alert into the log; send nothing.")
@click.pass_context
@fails_cleanly
def run(ctx: click.Context, all_sources: bool, dry_run: bool) -> None:
    """One pass: crawl due sources, parse, compare, queue and deliver alerts, then exit.

    Exit 0 when all is well, 1 when a source or delivery failed, 2 for a config error.

    \b
    Example:
      ofsted-watch run --all
    """
    from scheduler.run import log_components, run_pass

    if dry_run:
        # The rendered messages are the point of a dry run: show them whatever the log level.
        logging.getLogger("alerts.channels").setLevel(logging.INFO)
    config = _config(ctx)
    log_components(config)
    report = run_pass(config, all_sources=all_sources, dry_run=dry_run)
    click.echo(views.pass_summary(report))
    sys.exit(report.exit_code)


@cli.command(context_settings=CONTEXT)
@click.pass_context
@fails_cleanly
def baseline(ctx: click.Context) -> None:
    """Load the watched councils' full history from every source, alerting nothing.

    The first `run` of each source does the same on its own; use this to (re)record history
    on purpose, for example after adding councils to watch.

    \b
    Example:
      ofsted-watch baseline
    """
    from scheduler.run import run_pass

    report = run_pass(_config(ctx), all_sources=True, baseline=True)
    click.echo(views.pass_summary(report))
    sys.exit(report.exit_code)


@cli.command(context_settings=CONTEXT)
@click.option("--tick", default=60, show_default=True, help="Seconds between schedule checks.")
@click.pass_context
@fails_cleanly
def serve(ctx: click.Context, tick: int) -> None:
    """Run as a service: the same pass on each source's schedule, until SIGTERM.

    SIGHUP reloads the config; an invalid one is logged and the running one kept.

    \b
    Example:
      ofsted-watch --config /etc/ofsted-watch.toml serve
    """
    from scheduler.serve import serve_forever

    if not logging.getLogger().isEnabledFor(logging.INFO):
        # A service's journal should say what it runs and each pass it makes, even without -v.
        logging.getLogger("scheduler").setLevel(logging.INFO)
    serve_forever(_config(ctx), tick_seconds=tick, reload=lambda: _config(ctx))


@cli.command(context_settings=CONTEXT)
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per input (CONTRACTS §3).")
@click.option("--url", help="The URL the document came from.")
@click.option("--council", help="The council whose newsroom published it (for 'our services').")
@click.option(
    "--date",
    "when",
    type=click.DateTime(["%Y-%m-%d"]),
    help="The article's date, for 'published today' and 'last month'.",
)
@fails_cleanly
def extract(
    paths: tuple[str, ...], as_json: bool, url: str | None, council: str | None, when: Any
) -> None:
    """Parse local files (HTML, text or PDF; '-' for stdin) with no network and no database.

    \b
    Example:
      ofsted-watch extract --json --date 2024-12-05 story.html report.pdf
    """
    from crawler.extract import Extracted, extract_document, sniff_kind
    from scheduler.config import resolve_authorities

    home = resolve_authorities([council], "--council") if council else ()
    failed = False
    for path in paths:
        data = _read_input(path)
        if path.lower().endswith(".pdf") and sniff_kind(data) != "pdf":
            # Ofsted's site has served HTML "not found" pages under report links.
            click.echo(f"Warning: {path}: not a PDF; nothing to extract", err=True)
            click.echo(views.extracted(path, Extracted("other", ()), as_json))
            continue
        try:
            result = extract_document(
                data, url=url, article_date=_day(when), published=_day(when), home_councils=home
            )
        except ParseError as exc:
            click.echo(f"Error: {path}: {exc}", err=True)
            failed = True
            continue
        click.echo(views.extracted(path, result, as_json))
    if failed:
        sys.exit(1)


def _day(value: Any) -> date | None:
    return value.date() if value else None


def _read_input(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}") from None


@cli.command(context_settings=CONTEXT)
@click.option("--keep", is_flag=True, help="Keep the demo's working folder and print its path.")
@fails_cleanly
def demo(keep: bool) -> None:
    """The offline demo: local Ofsted, council and news sites, a real SMTP server and webhook.

    \b
    Example:
      ofsted-watch demo
    """
    from scheduler.demo.runner import run_demo

    sys.exit(run_demo(keep=keep, echo=click.echo))


@cli.command(context_settings=CONTEXT)
@click.argument("authority")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="As CSV.")
@click.pass_context
@fails_cleanly
def history(ctx: click.Context, authority: str, as_json: bool, as_csv: bool) -> None:
    """The stored timeline of one council (any name or alias works).

    \b
    Example:
      ofsted-watch history Southend --csv
    """
    click.echo(
        views.history(_config(ctx), authority, "json" if as_json else "csv" if as_csv else "table")
    )


@cli.command(context_settings=CONTEXT)
@click.option("--council", help="One council, by any name or alias.")
@click.option("--region", help="An ONS region, e.g. 'East of England'.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Published on or after.")
@click.option("--kind", type=click.Choice(EVENT_TYPES), help="The kind of event.")
@click.option("--status", "state", type=click.Choice(STATUSES), help="reported or confirmed.")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="As CSV.")
@click.pass_context
@fails_cleanly
def outcomes(
    ctx: click.Context,
    council: str | None,
    region: str | None,
    since: Any,
    kind: str | None,
    state: str | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    """List stored outcomes across councils, filtered.

    \b
    Example:
      ofsted-watch outcomes --region "East of England" --since 2024-01-01 --status confirmed
    """
    wanted = views.OutcomeFilter(council, region, _day(since), kind, state)
    fmt = "json" if as_json else "csv" if as_csv else "table"
    click.echo(views.outcomes(_config(ctx), wanted, fmt))


@cli.command(context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_context
@fails_cleanly
def status(ctx: click.Context, as_json: bool) -> None:
    """Health of the last runs, sources and deliveries. Exit 0 healthy, 1 degraded, 2 failing.

    \b
    Example:
      ofsted-watch status --json
    """
    text, code = views.status(_config(ctx), as_json)
    click.echo(text)
    sys.exit(code)


@cli.command("try", context_settings=CONTEXT)
@click.argument("source_name")
@click.option("--limit", default=5, show_default=True, help="Articles to follow at most.")
@click.pass_context
@fails_cleanly
def try_(ctx: click.Context, source_name: str, limit: int) -> None:
    """Fetch one configured source now, from the real site, and print what each page gives.

    Nothing is written to the database. Exit 0 when the source looks healthy, 1 when a pass
    would report it failing.

    \b
    Example:
      ofsted-watch try essex-news --limit 3
    """
    from scheduler.trial import describe, try_source

    if limit < 1:
        raise click.BadParameter("must be at least 1", param_hint="--limit")
    trial = try_source(_config(ctx), source_name, limit)
    click.echo(describe(trial))
    sys.exit(1 if trial.problems else 0)


@cli.command("check-config", context_settings=CONTEXT)
@click.pass_context
@fails_cleanly
def check_config(ctx: click.Context) -> None:
    """Validate the config and print what would run.

    \b
    Example:
      ofsted-watch --config ofsted-watch.toml check-config
    """
    click.echo(views.config_summary(_config(ctx)))


@cli.command(context_settings=CONTEXT)
def sources() -> None:
    """List the source kinds with what each one watches.

    \b
    Example:
      ofsted-watch sources
    """
    from crawler.sources import SOURCE_KINDS

    for kind, spec in SOURCE_KINDS.items():
        click.echo(f"{kind:8} {spec.summary}")
        click.echo(f"{'':8} keys: {', '.join(spec.all_keys)}")


@cli.command(context_settings=CONTEXT)
def channels() -> None:
    """List the alert channel kinds.

    \b
    Example:
      ofsted-watch channels
    """
    from alerts.channels import CHANNELS

    for kind, cls in CHANNELS.items():
        click.echo(f"{kind:8} {(cls.__doc__ or '').strip().splitlines()[0]}")
        click.echo(f"{'':8} keys: {', '.join(cls.all_keys())}")


@cli.group(context_settings=CONTEXT)
def db() -> None:
    """Database maintenance."""


@db.command(context_settings=CONTEXT)
@click.pass_context
@fails_cleanly
def migrate(ctx: click.Context) -> None:
    """Create or upgrade the database schema and seed the councils.

    \b
    Example:
      ofsted-watch db migrate
    """
    from db.engine import Database

    config = _config(ctx.find_root())
    with Database.open(config.database_url):
        pass
    click.echo(f"database ready: {config.database_url.split('@')[-1]}")


@cli.group(context_settings=CONTEXT)
def alerts() -> None:
    """Look at and test alert delivery."""


@alerts.command("test", context_settings=CONTEXT)
@click.option("--channel", "channel_name", required=True, help="The channel's name in the config.")
@click.option("--dry-run", is_flag=True, help="Render the sample; send nothing.")
@click.pass_context
@fails_cleanly
def alerts_test(ctx: click.Context, channel_name: str, dry_run: bool) -> None:
    """Send a sample alert, marked [TEST], through one channel.

    \b
    Example:
      ofsted-watch alerts test --channel comms
    """
    text, ok = views.send_sample(_config(ctx.find_root()), channel_name, dry_run)
    click.echo(text)
    sys.exit(0 if ok else 1)


@alerts.command("list", context_settings=CONTEXT)
@click.option(
    "--status",
    "state",
    type=click.Choice(["pending", "sent", "dead", "discarded", "all"]),
    default="all",
    show_default=True,
)
@click.pass_context
@fails_cleanly
def alerts_list(ctx: click.Context, state: str) -> None:
    """Show queued, sent and dead alerts.

    \b
    Example:
      ofsted-watch alerts list --status dead
    """
    click.echo(views.outbox(_config(ctx.find_root()), state))


@alerts.command("retry", context_settings=CONTEXT)
@click.argument("alert_id", type=int, required=False)
@click.option("--dead", is_flag=True, help="Every dead alert.")
@click.pass_context
@fails_cleanly
def alerts_retry(ctx: click.Context, alert_id: int | None, dead: bool) -> None:
    """Queue an alert again (or every dead one), with the same idempotency key.

    An alert for a digest channel waits for that channel's next digest.

    \b
    Example:
      ofsted-watch alerts retry 12
      ofsted-watch alerts retry --dead
    """
    _one_target(alert_id, dead, None, "an ID or --dead")
    click.echo(views.retry(_config(ctx.find_root()), alert_id, dead))


@alerts.command("redeliver", context_settings=CONTEXT)
@click.argument("alert_id", type=int)
@click.pass_context
@fails_cleanly
def alerts_redeliver(ctx: click.Context, alert_id: int) -> None:
    """The same as `alerts retry ID`.

    \b
    Example:
      ofsted-watch alerts redeliver 12
    """
    click.echo(views.retry(_config(ctx.find_root()), alert_id, dead=False))


@alerts.command("discard", context_settings=CONTEXT)
@click.argument("alert_id", type=int, required=False)
@click.option("--dead", is_flag=True, help="Every dead alert.")
@click.option("--channel", "channel", help="Every undelivered alert of this channel.")
@click.pass_context
@fails_cleanly
def alerts_discard(
    ctx: click.Context, alert_id: int | None, dead: bool, channel: str | None
) -> None:
    """Give up on undelivered alerts: kept on record, never sent, not counted by `status`.

    Use --channel for a channel removed from the config, whose alerts would wait for ever.

    \b
    Example:
      ofsted-watch alerts discard 12
      ofsted-watch alerts discard --dead
      ofsted-watch alerts discard --channel old-slack
    """
    _one_target(alert_id, dead, channel, "an ID, --dead or --channel")
    click.echo(views.discard_alerts(_config(ctx.find_root()), alert_id, dead, channel))


def _one_target(alert_id: int | None, dead: bool, channel: str | None, choices: str) -> None:
    if sum([alert_id is not None, dead, channel is not None]) != 1:
        raise click.UsageError(f"give exactly one of {choices}")


def main() -> None:
    cli(obj={})
