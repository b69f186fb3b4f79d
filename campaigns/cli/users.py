"""`chorus users`: who may sign in to the dashboard, and with which role.

"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from campaigns.cli.runtime import fail, runtime
from campaigns.core.clock import utcnow
from campaigns.storage import db
from campaigns.storage.models import User
from campaigns.storage.users import (
    ROLES,
    UserError,
    add_user,
    end_sessions,
    find_user,
    list_users,
    normalise_email,
    remove_user,
    set_disabled,
    unlock,
)

users_app: typer.Typer = typer.Typer(
    help="Dashboard users: who may sign in, and their role.", no_args_is_help=True
)


@users_app.command("add")
def users_add(
    email: Annotated[str, typer.Argument(help="The e-mail address they sign in with.")],
    name: Annotated[str, typer.Option(help="Their name, as approvals and the audit log show it.")],
    role: Annotated[
        str, typer.Option(help="officer (everything), partner (its own organisation only), "
                               "board (read-only) or approver (signs off or sends back "
                               "campaigns; edits nothing).")
    ],
    organisation: Annotated[
        str | None, typer.Option(help="Their organisation's key; required for partners.")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    no_password: Annotated[
        bool, typer.Option("--no-password",
                           help="No local password: they sign in through the OIDC provider "
                                "configured in .streamlit/secrets.toml only.")
    ] = False,
) -> None:
    """Add a dashboard user. Without --password-stdin or --no-password, asks for a password."""
    if role not in ROLES:
        raise fail(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if password_stdin and no_password:
        raise fail("give --password-stdin or --no-password, not both")
    password = None if no_password else _password(from_stdin=password_stdin)
    with runtime() as rt, db.transaction(rt.sessions) as session:
        try:
            user = add_user(session=session, email=email, name=name, role=role,
                            organisation_key=organisation, password=password, now=utcnow())
        except UserError as exc:
            raise fail(str(exc)) from None
        summary = _describe(user)
    typer.echo(f"added {summary}")


def _password(*, from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise fail("no password on standard input")
        return password
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def _describe(user: User) -> str:
    where = f" of {user.organisation_key}" if user.organisation_key else ""
    return f"{user.role} {user.email} ({user.name}{where})"


@users_app.command("list")
def users_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List dashboard users: role, organisation, how they sign in (never a password hash)."""
    with runtime() as rt, rt.sessions() as session:
        rows = [_row(u) for u in list_users(session=session)]
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    elif not rows:
        typer.echo("no users; add one with: chorus users add EMAIL --name NAME --role officer")
    else:
        typer.echo(_table(rows))


def _row(user: User) -> dict[str, object]:
    return {"email": user.email, "name": user.name, "role": user.role,
            "organisation": user.organisation_key or "",
            "sign_in": "password" if user.password_hash else "oidc",
            "disabled": user.disabled}


def _table(rows: list[dict[str, object]]) -> str:
    columns = ("email", "name", "role", "organisation", "sign_in", "disabled")
    shown = [{c: ("yes" if r[c] is True else "" if r[c] is False else str(r[c]))
              for c in columns} for r in rows]
    widths = {c: max(len(c), *(len(r[c]) for r in shown)) for c in columns}
    lines = ["  ".join(c.replace("_", "-").ljust(widths[c]) for c in columns)]
    lines += ["  ".join(r[c].ljust(widths[c]) for c in columns) for r in shown]
    return "\n".join(line.rstrip() for line in lines)


@users_app.command("disable")
def users_disable(
    email: Annotated[str, typer.Argument(help="The user's e-mail address.")],
) -> None:
    """Stop a user signing in; their open dashboard sessions end on their next page run."""
    _set_disabled(email, True)


@users_app.command("enable")
def users_enable(
    email: Annotated[str, typer.Argument(help="The user's e-mail address.")],
) -> None:
    """Let a disabled user sign in again."""
    _set_disabled(email, False)


def _set_disabled(email: str, disabled: bool) -> None:
    with runtime() as rt, db.transaction(rt.sessions) as session:
        try:
            user = set_disabled(email, disabled, session=session)
        except UserError as exc:
            raise fail(str(exc)) from None
        summary = _describe(user)
    typer.echo(f"{'disabled' if disabled else 'enabled'} {summary}")


@users_app.command("remove")
def users_remove(
    email: Annotated[str, typer.Argument(help="The user's e-mail address.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a user for good: their address, name, role and password hash.

    For someone who has left, or asks to be erased. Names recorded as who approved, edited or
    changed what (the audit log) are kept. To stop someone signing in for now, use disable.
    """
    if not yes:
        typer.confirm(f"Delete the user {email} for good?", abort=True)
    with runtime() as rt, db.transaction(rt.sessions) as session:
        try:
            user = remove_user(email, session=session)
        except UserError as exc:
            raise fail(str(exc)) from None
        summary = _describe(user)
    typer.echo(f"removed {summary}")


@users_app.command("sign-out")
def users_sign_out(
    email: Annotated[str, typer.Argument(help="The user's e-mail address.")],
) -> None:
    """End every open dashboard session of a user (a lost laptop, a shared computer); they can
    sign in again."""
    with runtime() as rt, db.transaction(rt.sessions) as session:
        user = find_user(email, session=session)
        if user is None:
            raise fail(f"no user {normalise_email(email)}")
        end_sessions(user)
        summary = _describe(user)
    typer.echo(f"signed out everywhere: {summary}")


@users_app.command("unlock")
def users_unlock(
    email: Annotated[str, typer.Argument(help="The e-mail address that was paused.")],
) -> None:
    """Let an address sign in again at once after too many failed sign-ins paused it.

    The pause is per address and lifts by itself (after 15 minutes at first, longer each time
    within a day). Check with the person that the failures were theirs first.
    """
    with runtime() as rt, db.transaction(rt.sessions) as session:
        forgotten = unlock(email, session=session)
    address = normalise_email(email)
    if forgotten:
        typer.echo(f"unlocked {address}: {forgotten} recent failed sign-in(s) forgotten")
    else:
        typer.echo(f"{address} had no recent failed sign-ins: there was nothing to unlock")
