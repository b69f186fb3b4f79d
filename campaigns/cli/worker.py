"""`chorus run`: the worker that sends approved posts at their time."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated

import typer

from campaigns.cli.runtime import Runtime, fail, runtime, safe_url
from campaigns.config.secrets import Vault
from campaigns.core.clock import utcnow


def run_command(
    worker_id: Annotated[
        str | None, typer.Option(help="A name for this worker (default: host-pid).")
    ] = None,
    threads: Annotated[int, typer.Option(help="Sends that may be in flight at once.")] = 16,
) -> None:
    """Run the worker: send approved posts at their time, until Ctrl-C or SIGTERM."""
    from scheduler.dispatch import Dispatcher, WorkerConfig
    from scheduler.publishers.registry import build_publishers
    from scheduler.worker import (
        Worker,
        alerts_sender,
        collector_for,
        default_worker_id,
        urgent_sender,
    )

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with runtime() as rt:
        settings = rt.settings
        config = WorkerConfig(
            worker_id=worker_id or default_worker_id(),
            lease=timedelta(seconds=settings.lease_seconds),
            grace=timedelta(minutes=settings.missed_grace_minutes),
            sign_off_reminder=timedelta(hours=settings.sign_off_reminder_hours),
            content_root=settings.content_dir,
        )
        vault = _vault_opening_tokens(rt)
        dispatcher = Dispatcher(rt.sessions, build_publishers(settings), vault, config, utcnow)
        typer.echo(f"worker {config.worker_id} running against "
                   f"{safe_url(settings.database_url)}; Ctrl-C to stop")
        Worker(dispatcher, rt.sessions, clock=utcnow, send_alerts=alerts_sender(settings),
               send_urgent=urgent_sender(settings),
               threads=threads, collector=collector_for(settings, dispatcher)).run()


def _vault_opening_tokens(rt: Runtime) -> Vault:
    """The vault, if it opens the stored tokens: with the wrong CHORUS_SECRET_KEY a worker would
    hold every account's posts as disconnected, so it refuses to start instead."""
    from campaigns.storage.accounts import unopenable_tokens

    vault = rt.vault()
    with rt.sessions() as session:
        unopenable, stored = unopenable_tokens(vault=vault, session=session)
    if stored and len(unopenable) == stored:
        raise fail(f"CHORUS_SECRET_KEY opens none of the {stored} stored account tokens (is it "
                   "the key they were stored with?); not starting. Set the right key, or rotate "
                   "with `chorus secrets rotate`")
    if unopenable:
        typer.secho(f"warning: CHORUS_SECRET_KEY cannot open the tokens of "
                    f"{', '.join(unopenable)}; their posts will be held until they are "
                    "connected again", fg=typer.colors.YELLOW, err=True)
    return vault
