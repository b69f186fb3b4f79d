"""Compose: write campaigns, their posts and each network's wording in the browser.

The page edits one post of one campaign at a time, starting from what the database holds, and
checks the whole campaign on every change with the rules content files follow
(campaigns.storage.authoring). Saving writes it in one transaction; it is then planned and approved
as usual.
"""

import re
from datetime import time
from typing import Any

import streamlit as st

from campaigns.core.clock import utcnow
from campaigns.formats.sharekit import NETWORK_NAMES
from campaigns.storage import authoring, db
from campaigns.storage.authoring import MAX_IMAGE_BYTES, SEND_MODES, AuthoringInvalid, ImageRefused
from dashboard import auth, components, data

NEW = "__new__"
CAMPAIGN = "compose-campaign"
#: A selection the last save asks for, applied before the widgets are drawn.
NEXT = "compose-next"
#: Suffixes of session-state keys: a widget the person has changed, a save they have asked for.
TOUCHED = ":touched"
TRIED = "save-tried"
#: The widget (its key's end) that holds each field of a post, by the start of its path.
POST_FIELDS = (("key", "key"), ("variants.", "text-"), ("partner_variants.", "own-"),
               ("link", "link"), ("images", "alt-"), ("reporting_channel", "channel"),
               ("audience", "audience"), ("send", "days-"))
#: What pydantic says of an empty field, and what the page says instead.
EMPTY = ("Field required", "String should have at least 1 character")
AUDIENCES = {"all": "All: the lead and every partner that consents",
             "lead": "The lead organisation's accounts only",
             "accounts": "Chosen accounts"}

#: The uploader refuses larger images itself (its hint says so), as storage.authoring would.
IMAGE_MB = MAX_IMAGE_BYTES // (1024 * 1024)

viewer = auth.page_viewer("compose")
st.title("Compose")
st.write("Write a campaign and its posts: each network's wording, images with their alt "
         "text, and when they go out. Every change is checked with the rules content files "
         "follow; saving stores the campaign, which is then planned and approved as usual. "
         "Nothing is sent from this page.")

with data.reading() as session:
    options = authoring.choices(session=session)
if not options.events or not options.channels:
    st.info("Load the awareness calendar and reporting channels first (chorus content load).")
    st.stop()
# Pickers show names; the keys stay their values (what the campaign stores).
accounts = data.account_health(viewer)
names = {"events": dict(options.events), "channels": dict(options.channels),
         "partners": dict(options.partners),
         "accounts": dict(zip(accounts["account key"], accounts["account"], strict=True))}
listed = data.campaigns(viewer)
campaign_names = dict(zip(listed["key"], listed["campaign"], strict=True))


def touched(key: str) -> None:
    """Remember that the person has changed this widget: its problems may now be shown."""
    st.session_state[key + TOUCHED] = True


def watch(key: str) -> dict[str, Any]:
    """A widget's key, with a note of it once the person changes it."""
    return {"key": key, "on_change": touched, "args": (key,)}


def labelled(labels: dict[str, str]) -> Any:
    """A format_func showing each key's label."""
    return lambda key: labels.get(key, key)


#: Beside each field, a place for its problems, filled once the whole campaign is checked (the
#: check needs every field, so it runs after they are all drawn): the field's name, as
#: slot_of() names a problem's field.
slots: dict[str, Any] = {}


def slot(name: str) -> None:
    slots[name] = st.container()


def choose(label: str, keys: list[str], key: str, default: str, **kwargs: Any) -> Any:
    """A selectbox whose choice lives in its widget state; a save may ask for a new one."""
    asked = st.session_state.get(NEXT, {}).pop(key, None)
    if asked in keys:
        st.session_state[key] = asked
    if st.session_state.get(key) not in keys:
        st.session_state[key] = default
    return st.selectbox(label, keys, key=key, **kwargs)


def counter(network: str, wording: str, link: str | None) -> None:
    """The live length counter, in words as well as colour."""
    if not wording.strip():
        st.caption(f"No {NETWORK_NAMES[network]} wording: nothing is posted on "
                   f"{NETWORK_NAMES[network]}.")
        return
    [measured] = authoring.measure_post({"link": link, "variants": {network: wording}})
    st.caption(components.plain(f"{NETWORK_NAMES[network]} length: {measured.counter()}"))


# ---- the campaign -----------------------------------------------------------------------------

campaign_labels = {k: campaign_names.get(k, label) for k, label in options.campaigns} | {
    NEW: "A new campaign"}
campaign_keys = [k for k, _ in options.campaigns] + [NEW]
campaign_key = choose("Campaign", campaign_keys, CAMPAIGN, campaign_keys[0],
                      format_func=labelled(campaign_labels))
creating = campaign_key == NEW
with data.reading() as session:
    stored = None if creating else authoring.stored_document(campaign_key, session=session)
if stored is None and not creating:
    st.info("That campaign can no longer be edited here (it was withdrawn or has no awareness "
            "event): choose another above.")
    st.stop()
head: dict[str, Any] = stored["campaign"] if stored else {}
prefix = f"compose:{campaign_key}:"

st.header("Campaign")
if creating:
    key = st.text_input("Campaign key", **watch(prefix + "key"),
                        help="Lower-case letters, digits and hyphens, e.g. refugee-week-2027. "
                             "It never changes once saved.")
    slot("campaign.key")
else:
    key = campaign_key
    st.caption(f"Key: {components.plain(key)} (keys never change)")
name = st.text_input("Name", value=head.get("name", ""), **watch(prefix + "name"))
slot("campaign.name")
event_keys = [k for k, _ in options.events]
event = st.selectbox("Awareness event", event_keys, key=prefix + "event",
                     index=event_keys.index(head["event"]) if head.get("event") in event_keys
                     else 0, format_func=labelled(names["events"]))
slot("campaign.event")
year = int(st.number_input("Year", min_value=2000, max_value=2100, step=1, key=prefix + "year",
                           value=int(head.get("year", utcnow().year))))
slot("campaign.year")
zone = st.text_input("Time zone (IANA name)", value=head.get("timezone", data.zone()),
                     **watch(prefix + "timezone"))
slot("campaign.timezone")
summary = st.text_area("Summary (optional)", value=head.get("summary", ""),
                       key=prefix + "summary")
author = head.get("author", viewer.name)
st.caption(f"Author: {components.plain(author)}. Someone other than the author approves the "
           "campaign.")
campaign_head = {"key": key.strip(), "name": name, "event": event, "year": year,
                 "timezone": zone.strip(), "author": author}
if summary.strip():
    campaign_head["summary"] = summary.strip()
base: dict[str, Any] = {"campaign": campaign_head, "posts": stored["posts"] if stored else []}

# ---- one post ---------------------------------------------------------------------------------

st.header("Post")
posts = {p["key"]: p for p in base["posts"]}
post_keys = [*posts, NEW]
post_key = choose("Post to write", post_keys, prefix + "post", post_keys[0],
                  format_func=lambda k: "A new post" if k == NEW else k)
post: dict[str, Any] = posts.get(post_key, {})
here = f"{prefix}{post_key}:"

if post_key == NEW:
    new_key = st.text_input("Post key", **watch(here + "key"),
                            help="Lower-case letters, digits and hyphens, e.g. launch.")
    slot("key")
else:
    new_key = post_key
    st.caption(f"Post key: {components.plain(post_key)}")

mode, days, at = authoring.send_parts(post.get("send", {}))
modes = list(SEND_MODES)
when_column, days_column, time_column = st.columns([2, 1, 1])
with when_column:
    mode = st.radio("When is it sent?", modes, index=modes.index(mode), key=here + "mode",
                    format_func=labelled(SEND_MODES))
with days_column:
    days_label = {"day": "Day of the event (1 is the first)",
                  "days_before": "Days before the first day",
                  "days_after": "Days after the last day (0 is the last day)"}[mode]
    days = int(st.number_input(days_label, min_value=1 if mode == "day" else 0, step=1,
                               value=max(days, 1 if mode == "day" else 0),
                               **watch(here + f"days-{mode}")))
with time_column:
    at = st.time_input("At (local time)", value=at, key=here + "at") or time(9, 0)
send = authoring.send_document(mode, days, at)
slot("send")
if event is not None and event in options.event_rules:
    moment = authoring.send_day(options.event_rules[event], year, send)
    st.caption(components.plain(f"Sent on {moment:%A %d %B %Y at %H:%M}, {zone.strip()} "
                                "time."))

audience_now = post.get("audience", "all")
audience_mode = audience_now if isinstance(audience_now, str) else "accounts"
audience_mode = st.radio("Who posts it?", list(AUDIENCES), key=here + "audience",
                         index=list(AUDIENCES).index(audience_mode),
                         format_func=labelled(AUDIENCES), on_change=touched,
                         args=(here + "audience",))
audience: str | list[str] = audience_mode
if audience_mode == "accounts":
    audience = st.multiselect("Accounts", list(names["accounts"]), key=here + "accounts",
                              default=[a for a in audience_now if a in names["accounts"]]
                              if isinstance(audience_now, list) else [],
                              format_func=labelled(names["accounts"]))
slot("audience")

link = st.text_input("Link (added at the end of each text unless it is already in it)",
                     value=post.get("link", ""), **watch(here + "link")).strip() or None
slot("link")
channel_keys = list(names["channels"])
channel = st.selectbox(
    "Reporting channel (every text must give its web address or phone number)", channel_keys,
    **watch(here + "channel"), format_func=labelled(names["channels"]),
    index=channel_keys.index(post["reporting_channel"])
    if post.get("reporting_channel") in channel_keys else 0)
slot("reporting_channel")

st.markdown("**Images**")
images = []
for index, image in enumerate(post.get("images", [])):
    alt = st.text_area(f"Alt text for {components.plain(image['file'])}", value=image["alt"],
                       **watch(here + f"alt-{index}"))
    slot(f"images.{index}")
    if not st.checkbox(f"Remove {components.plain(image['file'])}",
                       key=here + f"remove-{index}"):
        images.append({"file": image["file"], "alt": alt})
upload = st.file_uploader(f"Add an image (PNG, JPEG, GIF or WebP, at most {IMAGE_MB} MB)",
                          type=["png", "jpg", "jpeg", "gif", "webp"], key=here + "upload",
                          max_upload_size=IMAGE_MB)
if upload is not None:
    try:
        stored_as = authoring.store_image(data.content_dir(), upload.name, upload.getvalue())
    except ImageRefused as refused:
        st.error(components.plain(f"Not added: {refused}. Choose another image."))
    else:
        new_alt = st.text_area(f"Alt text for the new image ({components.plain(upload.name)}): "
                               "what it shows, "
                               "for people who cannot see it", **watch(here + "alt-new"))
        slot(f"images.{len(images)}")
        if stored_as not in {i["file"] for i in images}:
            images.append({"file": stored_as, "alt": new_alt})

st.markdown("**Wording for each network** (leave one empty to post nothing there)")
variants = {}
for network in authoring.NETWORKS:
    wording = st.text_area(f"{NETWORK_NAMES[network]} wording", **watch(here + f"text-{network}"),
                           value=post.get("variants", {}).get(network, ""))
    counter(network, wording, link)
    slot(f"variants.{network}")
    if wording.strip():
        variants[network] = wording.strip()

st.markdown("**Partners' own wording** (X needs each partner's own words for a post to all)")
own = post.get("partner_variants", {})
chosen = st.multiselect("Partners with their own wording", list(names["partners"]),
                        default=[p for p in own if p in names["partners"]],
                        format_func=labelled(names["partners"]), key=here + "partners")
partner_variants = {}
for partner in chosen:
    texts = {}
    for network in authoring.NETWORKS:
        wording = st.text_area(f"{components.plain(names['partners'][partner])}: "
                               f"{NETWORK_NAMES[network]} wording",
                               value=own.get(partner, {}).get(network, ""),
                               **watch(here + f"own-{partner}-{network}"))
        if wording.strip():
            counter(network, wording, link)
        slot(f"partner_variants.{partner}.{network}")
        if wording.strip():
            texts[network] = wording.strip()
    if texts:
        partner_variants[partner] = texts

written: dict[str, Any] = {"key": new_key.strip(), "send": send, "audience": audience,
                           "link": link, "reporting_channel": channel, "images": images,
                           "variants": variants, "partner_variants": partner_variants}
written = {k: v for k, v in written.items() if v not in (None, [], {})}
document = authoring.with_post(base, written, replacing=None if post_key == NEW else post_key)

# ---- checks, preview, save --------------------------------------------------------------------

original = None if creating else campaign_key
with data.reading() as session:
    checked = authoring.check_campaign(document, session=session, content_dir=data.content_dir(),
                                       default_timezone=data.zone(), original_key=original,
                                       rules=data.rules())

st.header("Checks")
st.caption("Length on each network, the reporting channel in every text, alt text, hashtags, "
           "every key, and what the planner would refuse (the same words on several X "
           "accounts) or move (quiet hours, daily limits): errors stop the campaign being "
           "saved; warnings are advice.")
new_post = len(document["posts"]) - 1 if post_key == NEW else None


def widget_of(field: str) -> str | None:
    """The key of the widget that holds a field of something new, or None for a stored field
    (its problems always show); '' when no one widget holds it (shown after Save)."""
    if field.startswith("campaign.") or not field:
        return prefix + field.removeprefix("campaign.") if creating else None
    if new_post is None or not field.startswith(f"posts[{new_post}]"):
        return None
    rest = field.removeprefix(f"posts[{new_post}]").lstrip(".")
    ends = [end for start, end in POST_FIELDS if rest.startswith(start) and rest != "variants"]
    return here + ends[0] if ends else ""


def shown(problem: Any) -> bool:
    """New fields are not judged before the person has changed them or asked to save."""
    widget = widget_of(problem.field)
    if widget is None or st.session_state.get(here + TRIED):
        return True
    return bool(widget) and any(str(k).startswith(widget) and str(k).endswith(TOUCHED)
                                for k in st.session_state)


def what(problem: Any) -> str:
    """What is wrong, in words (never a schema's jargon)."""
    message = str(problem.message)
    if any(message.startswith(empty) for empty in EMPTY):
        message = "nothing written yet: fill it in before saving"
    return message


def said(problem: Any) -> str:
    """A problem in words: where it is, then what is wrong."""
    return f"{authoring.where(problem, document, names['partners'])}: {what(problem)}"


#: Where the post being written sits in the campaign checked (its problems' fields name it).
post_index = (len(document["posts"]) - 1 if post_key == NEW
              else next(i for i, p in enumerate(document["posts"]) if p.get("key") == post_key))


def slot_of(field: str) -> str | None:
    """The slot beside the field a problem is about ('campaign.name', 'variants.x',
    'partner_variants.city-of-york-council.x', 'images.0', 'send'), or None: another post's,
    or a field with no one place on the page."""
    found = re.match(rf"^posts\[{post_index}\]\.(.+)$", field)
    if found is None:
        return field if field.startswith("campaign.") and field in slots else None
    rest = re.sub(r"^images\[(\d+)\].*$", r"images.\1", found[1])
    while rest and rest not in slots:  # 'send.day' is beside 'send'
        rest = rest.rpartition(".")[0]
    return rest or None


visible = [p for p in checked.problems if shown(p)]
beside = 0
for problem in visible:
    show = st.error if problem.severity == "error" else st.warning
    place = slot_of(problem.field)
    if place is not None:
        with slots[place]:
            show(components.plain(what(problem)))
        beside += 1
if not checked.problems:
    st.markdown("No problems found.")
elif not visible:
    st.markdown("Nothing to fix yet: each field is checked once you fill it in or save.")
elif beside:
    fields = "its field" if beside == 1 else "their fields"
    st.markdown(f"To look at before saving ({beside} also shown beside {fields} above):")
for problem in visible:
    show = st.error if problem.severity == "error" else st.warning
    show(components.plain(said(problem)))

st.header("Preview")
for measured in authoring.measure_post(written):
    components.post_preview({
        "network": measured.network, "length": measured.length, "limit": measured.limit,
        "wording": names["partners"].get(measured.owner, "shared"),
        "fits": "yes" if measured.fits else "no", "problem": measured.problem or "",
        "text": measured.text})


def save(saving: dict[str, Any], then_post: str | None) -> None:
    viewer.require_change()
    try:
        with db.transaction(data.sessions()) as writing:
            saved = authoring.save_campaign(
                saving, session=writing, content_dir=data.content_dir(),
                default_timezone=data.zone(), editor=viewer.name, now=utcnow(),
                original_key=original, rules=data.rules())
    except AuthoringInvalid:
        st.error("Not saved: fix the problems listed under Checks above, then save again.",
                 icon=":material/error:")
        return
    for cached in (data.campaigns, data.campaign_info, data.variant_previews,
                   data.events_for_year, data.campaign_years, data.share_kit_zip):
        cached.clear()
    asked: dict[str, str] = {CAMPAIGN: saved.campaign_key}
    if then_post:
        asked[f"compose:{saved.campaign_key}:post"] = then_post
    st.session_state[NEXT] = asked
    for stale in [k for k in st.session_state if str(k).startswith(f"compose:{NEW}:")
                  or (str(k).startswith(f"{prefix}{NEW}:") and str(k).endswith((TOUCHED, TRIED)))]:
        del st.session_state[stale]
    # The summary starts with the campaign's key: people know it by its name.
    components.flash_and_rerun(saved.summary().replace(saved.campaign_key,
                                                       saving["campaign"]["name"].strip()
                                                       or saved.campaign_key, 1), beside=SAVED)


def trying() -> None:
    st.session_state[here + TRIED] = True


SAVED = "compose-saved"
save_column, remove_column = st.columns(2)
with save_column:
    if st.button("Save campaign", type="primary", on_click=trying):
        save(document, written.get("key"))
    components.show_flash(beside=SAVED)
with remove_column:
    if post_key != NEW and len(posts) > 1 and st.button(
            f"Remove post {components.plain(post_key)}"):
        save(authoring.without_post(base, post_key), None)
