"""The `chorus` command line, the composition root: the one place that imports `campaigns`,
`scheduler` and `dashboard` together. Each command group lives in a module of its own here and
parses options, then calls library functions; `runtime` holds what they share."""

from __future__ import annotations

import typer

from campaigns.cli.accounts import accounts_app
from campaigns.cli.calendar import calendar_command
from campaigns.cli.content import content_app
from campaigns.cli.control import pause_command, resume_command
from campaigns.cli.dashboard import dashboard_command
from campaigns.cli.database import db_app
from campaigns.cli.deliveries import deliveries_app
from campaigns.cli.demo import demo_command
from campaigns.cli.engagement import engagement_app
from campaigns.cli.plan import approve_command, plan_command
from campaigns.cli.posts import posts_app
from campaigns.cli.reports import reports_app
from campaigns.cli.sandbox import sandbox_command
from campaigns.cli.secrets import secrets_app
from campaigns.cli.users import users_app
from campaigns.cli.worker import run_command

app = typer.Typer(
    help="Chorus: plan, schedule and measure awareness campaigns across a partnership.",
    no_args_is_help=True,
    add_completion=False,
)

app.command("calendar")(calendar_command)
app.command("plan")(plan_command)
app.command("approve")(approve_command)
app.command("run")(run_command)
app.command("pause")(pause_command)
app.command("resume")(resume_command)
app.command("sandbox")(sandbox_command)
app.command("dashboard")(dashboard_command)
app.command("demo")(demo_command)

for group, name in ((db_app, "db"), (content_app, "content"), (deliveries_app, "deliveries"),
                    (accounts_app, "accounts"), (posts_app, "posts"), (users_app, "users"),
                    (reports_app, "reports"), (engagement_app, "engagement"),
                    (secrets_app, "secrets")):
    app.add_typer(group, name=name)


def main() -> None:
    app()
