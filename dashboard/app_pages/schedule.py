"""Schedule: every delivery on a calendar (month, week, and a week's list), coloured and titled by
its state, with the year's awareness weeks as named bands behind; a click opens the post below
it, with its words on each network, and an officer can move it to another time.

The calendar is streamlit-calendar (FullCalendar's free, MIT-licensed month, week and list
views in a component frame): it was checked under Streamlit 1.67 in headless Chromium to draw
its entries, report a click back to Python, and show titles as text (never as HTML). Everything
it does can also be done without it: "Open a post" chooses the same posts from a list, and
"Move this post to" is an ordinary form, so the page works from the keyboard and with a screen
reader, and dragging an entry on the calendar only calls the same move.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st
from streamlit_calendar import calendar

from campaigns.storage.models import DeliveryStatus as S
from campaigns.storage.moves import MOVABLE, MoveRefused
from dashboard import auth, components, data, schedule_data
from dashboard.components import plain
from dashboard.schedule_data import LEGEND, OpenedPost

#: Session keys: the post opened (its choice in "Open a post"), the last calendar click handled,
#: what the last move said or why it was refused, and a counter that redraws the calendar.
OPEN, CLICKED, SAID, REFUSED, DRAWN = ("schedule-open", "schedule-clicked", "schedule-said",
                                       "schedule-refused", "schedule-drawn")
OPTIONS_VIEWS = "dayGridMonth,timeGridWeek,listWeek"
CALENDAR_CSS = """
.fc .fc-bg-event { opacity: 1; }
.fc .fc-bg-event .fc-event-title { color: var(--text-color); font-style: normal;
  font-size: 0.8em; }
.fc .fc-daygrid-day-bg .fc-bg-event .fc-event-title { position: absolute; left: 0.2em;
  bottom: 0.1em; margin: 0; white-space: nowrap; line-height: 1.3em; }
.fc .fc-daygrid-day-bg .fc-daygrid-bg-harness:nth-child(2) .fc-event-title { bottom: 1.4em; }
.fc .fc-daygrid-day-bg .fc-daygrid-bg-harness:nth-child(n+3) .fc-event-title { bottom: 2.7em; }
.fc .fc-daygrid-day-frame { padding-bottom: 2.8em; }
.fc .fc-header-toolbar { flex-wrap: wrap; gap: 0.5rem; }
.fc .fc-button-primary { background-color: #0b5394; border-color: #0b5394; color: #ffffff; }
.fc .fc-button-primary:disabled { background-color: #4a4a4a; border-color: #4a4a4a; }
.fc .fc-button-primary:not(:disabled).fc-button-active { background-color: #073763; }
.fc .fc-daygrid-day-number, .fc .fc-col-header-cell-cushion, .fc .fc-list-day-text,
.fc .fc-list-day-side-text, .fc .fc-toolbar-title, .fc .fc-timegrid-slot-label-cushion,
.fc .fc-list-event-title, .fc .fc-list-event-time { color: var(--text-color); }
.fc .fc-event:focus-visible { outline: 3px solid var(--text-color); outline-offset: 1px; }
"""

#: The opened post's deliveries as a person reads them: when, who, state and why, then the words.
POST_TABLE = {name: st.column_config.TextColumn(label, width=width)  # type: ignore[arg-type]
              for name, label, width in (("when", "When (local time)", 170),
                                         ("account", "Account", 260),
                                         ("status", "Status", 150), ("why", "Why", 220),
                                         ("approved by", "Approved by", 130),
                                         ("text", "Post text", "large"))}

viewer = auth.page_viewer("schedule")
st.title("Schedule")
st.write(plain(f"Every post planned, sent or due, on a calendar. Times are shown in "
               f"{data.zone()}. Click a post on the calendar, or choose it under Open a post, "
               "to read it" + (" and move it." if viewer.may_change else ".")))
if not viewer.may_change:
    components.read_only_note()


def legend() -> None:
    """The colours and the words they stand for (the words are in each entry's title too)."""
    items = "".join(
        f'<li style="display:inline-block;margin:0 0.5rem 0.3rem 0;padding:0.1rem 0.5rem;'
        f'border-radius:0.3rem;background:{look.background};color:{look.text}">{words}</li>'
        for words, look in LEGEND)
    st.html(f'<p style="margin:0">Colours on the calendar:</p>'
            f'<ul aria-label="Colours on the calendar" style="list-style:none;padding:0;'
            f'margin:0.2rem 0 0.5rem 0">{items}<li style="display:inline-block;'
            f'padding:0.1rem 0.5rem;border-radius:0.3rem;background:'
            f'{schedule_data.WEEK_COLOUR}">Grey band: an awareness week</li></ul>')


def summary(rows: pd.DataFrame, year: int) -> str:
    if rows.empty:
        return f"No posts are planned in {year} yet."
    counts = rows["status word"].value_counts()
    listed = ", ".join(f"{n} {word}" for word, n in counts.items())
    said = f"{len(rows)} posts on the calendar around {year}: {listed}."
    coming = schedule_data.next_due(rows, schedule_data.now_local())
    if coming is not None:
        when = datetime.fromisoformat(coming["start"])
        said += (f" The next post due is on {when:%a} {when.day} {when:%b %Y} at {when:%H:%M}: "
                 f"{coming['campaign']} ({coming['post']}). Use Next and Previous above the "
                 "calendar to reach its month.")
    return said


def first_day(rows: pd.DataFrame, year: int) -> date:
    """Where the calendar opens: today in this year, else the year's first post."""
    today = schedule_data.today()
    if today.year == year or rows.empty:
        return today if today.year == year else date(year, 1, 1)
    return date.fromisoformat(str(rows["start"].iloc[0])[:10])


def post_choices(rows: pd.DataFrame) -> dict[str, str]:
    """'campaign key|post key' -> 'Mon 12 Oct 10:00 · Campaign name: post', in time order."""
    choices: dict[str, str] = {}
    for row in rows.to_dict("records"):
        choice = f"{row['campaign key']}|{row['post']}"
        if choice not in choices:
            when = datetime.fromisoformat(row["start"])
            choices[choice] = f"{when:%a} {when.day} {when:%b %H:%M} · {row['campaign']}: " \
                              f"{row['post']}"
    return choices


def calendar_options(initial: date) -> dict[str, Any]:
    return {
        "initialView": "dayGridMonth", "initialDate": initial.isoformat(),
        "headerToolbar": {"left": "today prev,next", "center": "title", "right": OPTIONS_VIEWS},
        # Words, not FullCalendar's icons (images without a text alternative), and every post
        # in its day, never a "+2 more" link (a link with an ARIA state links may not have).
        "buttonIcons": False, "dayMaxEvents": False,
        "buttonText": {"today": "Today", "month": "Month", "week": "Week", "list": "List",
                       "prev": "Previous", "next": "Next"},
        # The times given are already in the partnership's zone: show them as they are.
        "timeZone": "UTC", "firstDay": 1, "height": 760,
        "eventDisplay": "block", "eventInteractive": True, "nowIndicator": False,
        "eventTimeFormat": {"hour": "2-digit", "minute": "2-digit", "hour12": False},
        "slotLabelFormat": {"hour": "2-digit", "minute": "2-digit", "hour12": False},
        "views": {"dayGridMonth": {"displayEventTime": False}},  # the list view has them
        "scrollTime": "08:00:00", "editable": viewer.may_change, "eventDurationEditable": False,
    }


def handle(value: object, rows: pd.DataFrame, choices: dict[str, str]) -> None:
    """A click opens the post; a drag (officers) moves it, as the form does."""
    if not isinstance(value, dict) or value.get("callback") not in ("eventClick", "eventChange"):
        return
    callback = value["callback"]
    event = value.get(callback, {}).get("event", {})
    signature = (callback, event.get("id"), event.get("start"))
    if st.session_state.get(CLICKED) == signature:
        return  # the component repeats its last value on every rerun
    st.session_state[CLICKED] = signature
    found = rows[rows["id"].astype(str) == str(event.get("id"))]
    if found.empty:
        return  # an awareness week's band, or a post no longer on the calendar
    row = found.iloc[0]
    choice = f"{row['campaign key']}|{row['post']}"
    if choice in choices:
        st.session_state[OPEN] = choice
    if callback == "eventChange" and viewer.may_change:
        dropped = datetime.fromisoformat(str(event["start"]).replace("Z", ""))
        moved_by = dropped - datetime.fromisoformat(row["start"])
        opened = schedule_data.post(viewer, row["campaign key"], row["post"])
        st.session_state[DRAWN] = st.session_state.get(DRAWN, 0) + 1  # redraw from the data
        if opened is not None:
            target = _in_campaign_zone(opened, moved_by)
            move(opened.campaign_key, opened.post_key, target.date(), target.time())
        st.rerun(scope="fragment")  # the calendar was drawn before the move: draw it again


def _in_campaign_zone(opened: OpenedPost, moved_by: timedelta) -> datetime:
    """The post's own time moved by what the drag moved one of its entries by."""
    zone = ZoneInfo(opened.timezone)
    aware = opened.local.replace(tzinfo=zone) + moved_by
    return aware.astimezone(zone).replace(tzinfo=None)


def move(campaign_key: str, post_key: str, day: date, at: time) -> None:
    st.session_state.pop(SAID, None)
    st.session_state.pop(REFUSED, None)
    try:
        moved = schedule_data.move(viewer, campaign_key, post_key, day, at)
    except MoveRefused as refused:
        st.session_state[REFUSED] = str(refused)
        return
    said = moved.summary()
    if moved.back_to_sign_off or moved.moved:
        said += (" Someone other than you signs it off, on Calendar and campaigns (you moved "
                 "it, so you cannot).")
    st.session_state[SAID] = said


def move_from_form(campaign_key: str, post_key: str) -> None:
    day = st.session_state.get(f"move-day:{campaign_key}:{post_key}")
    at = st.session_state.get(f"move-time:{campaign_key}:{post_key}")
    if not isinstance(day, date) or not isinstance(at, time):
        st.session_state[REFUSED] = "Give the new date and time."
        return
    move(campaign_key, post_key, day, at)


def move_form(opened: OpenedPost) -> None:
    st.subheader("Move this post to")
    if opened.not_movable:
        st.info(plain(f"This post cannot be moved: {opened.not_movable}."),
                icon=":material/block:")
        return
    st.caption(plain(f"Every account that posts it moves together, and the planner checks "
                     f"the new time with the same rules as Check and plan. Times are in the "
                     f"campaign's zone, {opened.timezone}. If it was approved, it goes back "
                     "for sign-off."))
    where = f"{opened.campaign_key}:{opened.post_key}"
    with st.form(f"move-post:{where}", border=True):
        st.date_input("New date", value=opened.local.date(), format="DD/MM/YYYY",
                      key=f"move-day:{where}")
        st.time_input(f"New time ({opened.timezone})", value=opened.local.time(),
                      step=timedelta(minutes=5), key=f"move-time:{where}")
        st.form_submit_button("Move this post", type="primary", on_click=move_from_form,
                              args=(opened.campaign_key, opened.post_key))
    said, refused = st.session_state.pop(SAID, None), st.session_state.pop(REFUSED, None)
    if said:
        st.success(plain(said), icon=":material/check_circle:")
    if refused:
        st.error(plain(refused), icon=":material/block:")


def show_post(opened: OpenedPost) -> None:
    st.header(plain(f"{opened.campaign}: post {opened.post_key}"))
    when = opened.local
    st.write(plain(f"Planned for {when:%a} {when.day} {when:%b %Y %H:%M} ({opened.timezone})"
                   f"; partners follow a few minutes after the lead."))
    words, beside = st.columns([3, 2]) if viewer.may_change else (st.container(), None)
    with words:
        components.table(opened.deliveries, name=f"Each account's post of {opened.post_key}",
                         columns=POST_TABLE,
                         hide=("id", "campaign key", "account key", "remote id"))
        st.subheader("Its words on each network")
        if opened.previews.empty:
            st.info("No wording you may see: this post has no variant for your organisation.")
        for row in opened.previews.to_dict("records"):
            components.post_preview(row)
        with components.lazy_expander("Details and ids", key="schedule-ids") as shown:
            if shown:
                st.caption("Chorus's own numbers and keys, and each post's id on its network.")
                st.dataframe(opened.deliveries[["when", "account", "id", "campaign key",
                                                "account key", "remote id"]],
                             hide_index=True, width="stretch",
                             alt="Ids of this post's deliveries")
    if beside is not None:
        with beside:
            move_form(opened)


@st.fragment
def schedule_section() -> None:
    """The calendar and the post opened from it: a click, a drag or a move reruns this only."""
    years = schedule_data.years(viewer)
    this_year = schedule_data.today().year
    year = st.selectbox("Year", years, index=years.index(this_year))
    rows = schedule_data.schedule(viewer, year)
    weeks = pd.concat([data.events_for_year(viewer, y) for y in (year - 1, year, year + 1)],
                      ignore_index=True)  # the margins' weeks too
    st.write(plain(summary(rows, year)))
    legend()
    st.caption("On a phone, choose List, beside Month and Week, to read each post in full.")
    events = schedule_data.calendar_events(rows, weeks)
    movable = {str(i) for i, s in zip(rows["id"], rows["status"], strict=True)
               if S(s) in MOVABLE}
    for event in events:  # only what has not started sending may be dragged
        event["editable"] = viewer.may_change and event["id"] in movable
    drawn = st.session_state.get(DRAWN, 0)
    value = calendar(events=events, options=calendar_options(first_day(rows, year)),
                     custom_css=CALENDAR_CSS, callbacks=["eventClick", "eventChange"],
                     key=f"schedule-calendar-{year}-{drawn}")
    choices = post_choices(rows)
    handle(value, rows, choices)
    if st.session_state.get(OPEN) not in choices:
        st.session_state.pop(OPEN, None)
    chosen = st.selectbox("Open a post", list(choices), format_func=choices.__getitem__,
                          index=None, key=OPEN,
                          placeholder="Choose a post, or click one on the calendar")
    if chosen is None:
        return
    campaign_key, post_key = chosen.split("|", 1)
    opened = schedule_data.post(viewer, campaign_key, post_key)
    if opened is None:
        st.info("That post is no longer there: choose another.")
        return
    show_post(opened)


schedule_section()
