"""The demo `make run` starts, headless with a short replay: a campaign goes out through the
real worker and the sandbox at its simulated times, engagement is read, reports are imported,
running it again doubles nothing, and the dashboard shows all of it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import CONTENT, ROOT
from tests.dashboard.conftest import rendered_text

APP = ROOT / "dashboard" / "app.py"
#: National Hate Crime Awareness Week 2026 (10-17 October) and the posts leading up to it.
REPLAY = ("2026-10-01T00:00:00", "2026-10-25T00:00:00")


def run_demo(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "CHORUS_DATABASE_URL": f"sqlite:///{tmp_path / 'var/chorus.db'}"}
    environment.pop("CHORUS_SECRET_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "campaigns", "demo", "--replay-from", REPLAY[0],
         "--replay-until", REPLAY[1], "--no-dashboard", "--sandbox-port", "0",
         "--var", str(tmp_path / "var"), "--content", str(CONTENT)],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=240, check=False)


def rows(path: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as connection:
        return connection.execute(query).fetchall()


def sandbox_ids(path: Path) -> list[str]:
    """The ids of every post the sandbox holds, on all three networks, as Chorus stores them."""
    return sorted(
        [str(i) for (i,) in rows(path, "SELECT id FROM posts")]
        + [str(i) for (i,) in rows(path, "SELECT id FROM mastodon_statuses")]
        + [f"at://{did}/{collection}/{key}" for did, collection, key in rows(
            path, "SELECT did, collection, rkey FROM bluesky_records")])


def utc(text: object) -> datetime:
    return datetime.fromisoformat(str(text)).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    tmp_path = tmp_path_factory.mktemp("demo")
    first = run_demo(tmp_path)
    assert first.returncode == 0, first.stderr + first.stdout
    second = run_demo(tmp_path)
    assert second.returncode == 0, second.stderr + second.stdout
    return tmp_path, first.stdout, second.stdout


def test_the_replay_sends_each_post_at_its_own_simulated_time(demo: tuple[Path, str, str]) -> None:
    tmp_path, output, _ = demo
    database = tmp_path / "var/chorus.db"
    posted = rows(database, """
        SELECT d.send_at, d.posted_at, d.remote_id, c.key FROM deliveries d
        JOIN campaigns c ON c.id = d.campaign_id WHERE d.status = 'posted'""")
    assert len(posted) >= 5
    assert {key for *_, key in posted} == {"nhcaw-2026"}
    start, end = (utc(t) for t in REPLAY)
    due = rows(database, "SELECT status, send_at, network FROM deliveries")
    assert sorted(s for s, at, _ in due if start <= utc(at) <= end) == ["posted"] * len(posted)
    assert {n for s, _, n in due if s == "posted"} == {"x", "mastodon", "bluesky"}
    for send_at, posted_at, _, _ in posted:
        assert start <= utc(send_at) <= end
        assert timedelta(0) <= utc(posted_at) - utc(send_at) < timedelta(minutes=1)
    assert sorted(str(r[2]) for r in posted) == sandbox_ids(tmp_path / "var/sandbox.db")
    assert "replay done" in output
    # Later posts were left for the real worker, not sent early or marked missed.
    waiting = rows(database, "SELECT send_at FROM deliveries WHERE status = 'scheduled'")
    assert waiting and all(utc(s) > end for (s,) in waiting)


def test_engagement_is_read_from_the_sandbox_as_time_passes(demo: tuple[Path, str, str]) -> None:
    database = demo[0] / "var/chorus.db"
    readings = rows(database, """
        SELECT s.delivery_id, s.read_at, s.impressions FROM engagement_snapshots s
        ORDER BY s.delivery_id, s.read_at""")
    assert len(readings) > 20
    by_post: dict[object, list[int]] = {}
    for delivery_id, _, impressions in readings:
        by_post.setdefault(delivery_id, []).append(int(str(impressions)))
    assert all(series == sorted(series) for series in by_post.values())
    assert any(series[-1] > series[0] > 0 for series in by_post.values())
    assert max(utc(at) for _, at, _ in readings) <= utc(REPLAY[1])


def test_running_it_again_doubles_nothing(demo: tuple[Path, str, str]) -> None:
    tmp_path, first, second = demo
    database = tmp_path / "var/chorus.db"
    [(posted,)] = rows(database, "SELECT count(*) FROM deliveries WHERE status = 'posted'")
    assert posted == len(sandbox_ids(tmp_path / "var/sandbox.db"))
    assert rows(database, "SELECT count(*) FROM users") == [(4,)]  # the four sign-ins
    assert rows(database, "SELECT count(*) FROM report_datasets") == [(2,)]
    assert "content: up to date" in second
    assert "signed off" in first and "signed off" not in second


def test_the_dashboard_shows_the_campaigns_engagement_and_reports(
    demo: tuple[Path, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_path, _, _ = demo
    monkeypatch.setenv("CHORUS_DATABASE_URL", f"sqlite:///{tmp_path / 'var/chorus.db'}")
    monkeypatch.setenv("CHORUS_CONTENT_DIR", str(CONTENT))
    monkeypatch.chdir(tmp_path)
    st.cache_data.clear()
    st.cache_resource.clear()
    sign_ins = json.loads((tmp_path / "var/demo-sign-ins.json").read_text())
    assert (tmp_path / "var/demo-sign-ins.json").stat().st_mode & 0o077 == 0
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.text_input[0].input("board@demo.chorus.invalid")
    at.text_input[1].input(sign_ins["board@demo.chorus.invalid"])
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert not at.exception, at.exception
    at.date_input[0].set_value(date(2026, 10, 25)).run()
    assert not at.error, [e.value for e in at.error]
    # Every post went to the sandbox, so the headline figures are the sandbox's, labelled.
    figures = {m.label: m.value for m in at.metric}
    assert int(figures["Sandbox posts"]) >= 5
    assert int(figures["Sandbox actions"].replace(",", "")) > 0
    assert int(figures["Reports"].replace(",", "")) > 0
    [notice] = [w.value for w in at.warning]  # one notice, saying whose figures they are
    assert "the figures above are the sandbox's" in notice
    for section in ("board-networks", "board-weekly", "board-campaigns"):  # opened, as a
        at.session_state[section] = True                                 # reader opens them
    at.run()
    assert not at.exception, at.exception
    networks = next(d.value for d in at.dataframe if d.value.columns[0] == "network")
    assert set(networks["network"]) == {"X (sandbox)", "Mastodon (sandbox)", "Bluesky (sandbox)"}
    assert (networks["engagements"] > 0).all()
    weekly = next(d.value for d in at.dataframe
                  if "sandbox impressions" in d.value.columns).set_index("week")
    assert weekly.loc["Total", "sandbox posts"] >= 5
    assert weekly.loc["Total", "sandbox impressions"] > 0
    assert weekly["offences (all strands)"].astype(str).str.fullmatch(r"\d+|<5").all()
    campaigns = next(d.value for d in at.dataframe if "campaign name" in d.value.columns)
    nhcaw = campaigns.set_index("campaign name").loc["National Hate Crime Awareness Week 2026"]
    assert nhcaw["impressions"] > 0 and nhcaw["engagements"] > 0
    assert nhcaw["figures"] == "Sandbox data — not real posts"  # labelled on its row
    text = rendered_text(at)
    assert "National Hate Crime Awareness Week" in text
    assert "synthetic" in text.lower()
    st.cache_data.clear()
    st.cache_resource.clear()


def test_a_replay_that_ends_before_it_starts_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from campaigns.cli import app

    result = CliRunner().invoke(app, [
        "demo", "--replay-from", "2026-10-10", "--replay-until", "2026-10-01",
        "--no-dashboard", "--var", str(tmp_path / "var"), "--content", str(CONTENT)])
    assert result.exit_code == 1
    assert "--replay-until (2026-10-01 00:00) must be after --replay-from" in result.stderr
    assert not (tmp_path / "var").exists()
