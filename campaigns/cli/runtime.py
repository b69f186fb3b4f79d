"""What every command shares: settings, engine and sessions for one command; the token vault;
the content check; and how a command fails (a red message, exit 1)."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import typer
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from campaigns.config.secrets import SecretKeyMissing, Vault, vault_from_settings
from campaigns.config.settings import Settings, load_settings
from campaigns.formats.content import EVENTS_FILE, Library
from campaigns.formats.plan_check import check_content, rules_from
from campaigns.storage import db


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]

    def vault(self) -> Vault:
        """The token vault; the command fails with a clear message when no key is configured."""
        key = self.settings.secret_key
        try:
            return vault_from_settings(key.get_secret_value() if key else None,
                                       demo=self.settings.demo)
        except SecretKeyMissing as exc:
            raise fail(str(exc)) from None


@contextmanager
def runtime(migrate: bool = True) -> Iterator[Runtime]:
    """Settings, engine and sessions for one command; the schema brought up to date first."""
    settings = checked_settings()
    url = settings.database_url
    engine = db.make_engine(url, **db.busy_timeout(url, settings.database_busy_seconds))
    try:
        if migrate:
            db.upgrade(engine)
        yield Runtime(settings, engine, db.session_factory(engine))
    except DBAPIError as exc:  # read-only, locked, full: one line that says what to do
        raise fail(db.describe_failure(exc, settings.database_url)) from None
    finally:
        engine.dispose()


def checked_settings() -> Settings:
    """The settings, or the command fails naming each setting that is wrong."""
    try:
        return load_settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = "CHORUS_" + "_".join(str(part) for part in error["loc"]).upper()
            message = str(error["msg"]).removeprefix("Value error, ")
            typer.secho(f"{name}: {message}", fg=typer.colors.RED, err=True)
        raise fail("the settings are not valid; nothing was done") from None


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown user"


def fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(1)


def safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def checked_library(
    directory: Path, *, show_warnings: bool = True, events_only: bool = False
) -> Library:
    settings = checked_settings()
    library = check_content(directory, rules=rules_from(settings),
                            default_timezone=settings.timezone)
    problems = library.problems
    if events_only:
        problems = [p for p in problems if p.file.endswith(EVENTS_FILE)]
    for problem in problems:
        if problem.severity == "error" or show_warnings:
            colour = typer.colors.RED if problem.severity == "error" else typer.colors.YELLOW
            typer.secho(str(problem), fg=colour, err=True)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise fail(f"{len(errors)} error(s); nothing was loaded")
    return library
