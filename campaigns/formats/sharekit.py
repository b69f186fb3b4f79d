"""Share kits: everything a partner needs to post a campaign by hand, as one ZIP file.

A kit holds, for each post: the text for each network ready to copy, an X intent link that
opens X's composer with the text filled in (a person presses Post: nothing is posted
automatically), the images with their alt text, and a calendar file of the posting slots.

Pure: the caller gathers the posts and reads the image files; nothing here touches a database
or the file system.
"""

from __future__ import annotations

import html
import io
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from icalendar import Calendar, Event

X_INTENT = "https://x.com/intent/post?text="
NETWORK_NAMES = {"x": "X", "mastodon": "Mastodon", "bluesky": "Bluesky"}
#: How long each posting slot blocks in a diary.
SLOT = timedelta(minutes=15)


@dataclass(frozen=True)
class KitImage:
    name: str
    alt: str
    #: None when the image file could not be read; the kit says so instead of failing.
    data: bytes | None


@dataclass(frozen=True)
class KitPost:
    key: str
    send_at: datetime  # aware
    #: The slot as people read it, in the campaign's zone, e.g. "Mon 12 Oct 2026, 10:00 BST".
    local_time: str
    #: network -> the text as it should be posted (link included)
    texts: Mapping[str, str]
    images: Sequence[KitImage] = ()


@dataclass(frozen=True)
class ShareKit:
    partner_key: str
    partner_name: str
    campaign_key: str
    campaign_name: str
    posts: Sequence[KitPost] = field(default_factory=tuple)

    @property
    def file_name(self) -> str:
        return f"share-kit-{self.campaign_key}-{self.partner_key}.zip"

    @property
    def calendar_name(self) -> str:
        return f"{self.campaign_key}-{self.partner_key}.ics"


def intent_link(text: str) -> str:
    """An X link that opens the composer with `text` filled in, for a person to post."""
    return X_INTENT + quote(text, safe="")


def build_zip(kit: ShareKit, *, stamp: datetime) -> bytes:
    """The kit as ZIP bytes; the same kit and `stamp` (aware) always give the same bytes."""
    if stamp.tzinfo is None:
        raise ValueError("stamp must be timezone-aware")
    files = {"README.txt": _readme(kit).encode(), "share-kit.html": _page(kit).encode(),
             kit.calendar_name: posting_calendar(kit, stamp=stamp)}
    for index, post in enumerate(kit.posts, start=1):
        folder = _folder(index, post)
        for network, text in post.texts.items():
            files[f"{folder}/{network}.txt"] = (text + "\n").encode()
        if "x" in post.texts:
            files[f"{folder}/x-intent-link.txt"] = (intent_link(post.texts["x"]) + "\n").encode()
        for image in post.images:
            files[f"{folder}/{image.name}.alt.txt"] = (image.alt + "\n").encode()
            if image.data is not None:
                files[f"{folder}/{image.name}"] = image.data
    return _zip(files, stamp)


def _zip(files: Mapping[str, bytes], stamp: datetime) -> bytes:
    moment = stamp.astimezone(UTC).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=max(moment, (1980, 1, 1, 0, 0, 0)))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return buffer.getvalue()


def _folder(index: int, post: KitPost) -> str:
    return f"posts/{index:02d}-{post.key}"


def posting_calendar(kit: ShareKit, *, stamp: datetime) -> bytes:
    """An iCalendar file with one event per posting slot, each holding the texts to post."""
    cal = Calendar()
    cal.add("prodid", "-//Chorus//Share kit//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{kit.campaign_name}: {kit.partner_name} posting slots")
    for post in kit.posts:
        event = Event()
        event.add("uid", f"{kit.campaign_key}-{kit.partner_key}-{post.key}@chorus")
        event.add("dtstamp", stamp.astimezone(UTC))
        event.add("dtstart", post.send_at.astimezone(UTC))
        event.add("dtend", post.send_at.astimezone(UTC) + SLOT)
        event.add("summary", f"Post for {kit.campaign_name} ({post.key})")
        event.add("description", _slot_description(post))
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal.to_ical()


def _slot_description(post: KitPost) -> str:
    parts = [f"{_network(n)}:\n{t}" for n, t in post.texts.items()]
    if "x" in post.texts:
        parts.append(f"Open X with the text filled in: {intent_link(post.texts['x'])}")
    parts += [f"Image {i.name}, alt text: {i.alt}" for i in post.images]
    return "\n\n".join(parts)


def _network(key: str) -> str:
    return NETWORK_NAMES.get(key, key)


def _readme(kit: ShareKit) -> str:
    lines = [
        f"Share kit: {kit.campaign_name}",
        f"For: {kit.partner_name}",
        "",
        "Post these from your organisation's own accounts, in your own time slot. Nothing in",
        "this kit posts anything by itself. In it:",
        "",
        "  - share-kit.html: open it in a browser to see every text and image, with links that",
        "    open X with the text filled in;",
        f"  - {kit.calendar_name}: the posting slots, for Outlook, Google Calendar and the like;",
        "  - posts/: one folder per post, with a text file per network, the X link, and the",
        "    images with their alt text.",
        "",
        "Add the alt text to each image when you post it, so that screen-reader users know",
        "what it shows. Please send the link to your post to the partnership, so that its reach",
        "can be counted with everyone else's.",
        "",
        "Posting slots:",
    ]
    for index, post in enumerate(kit.posts, start=1):
        lines.append(f"  {index:2d}. {post.local_time}  {_folder(index, post)}")
        lines += [f"      image {i.name} is missing; ask the partnership for it"
                  for i in post.images if i.data is None]
    if not kit.posts:
        lines.append("  none: this campaign has no posts for partners")
    return "\n".join(lines) + "\n"


def _page(kit: ShareKit) -> str:
    e = html.escape
    body = [f"<h1>Share kit: {e(kit.campaign_name)}</h1>", f"<p>For {e(kit.partner_name)}. "
            "Nothing here posts by itself: copy a text, or open X with it filled in.</p>"]
    for index, post in enumerate(kit.posts, start=1):
        folder = _folder(index, post)
        body.append(f"<section><h2>{index}. {e(post.local_time)} ({e(post.key)})</h2>")
        for network, text in post.texts.items():
            body.append(f"<h3>{e(_network(network))}</h3><pre>{e(text)}</pre>")
            if network == "x":
                body.append(f'<p><a href="{e(intent_link(text))}">Open X with this text '
                            "filled in</a></p>")
        for image in post.images:
            if image.data is not None:
                body.append(f'<figure><img src="{e(folder)}/{e(image.name)}" '
                            f'alt="{e(image.alt)}" width="480">')
            else:
                body.append(f"<figure><p>Image {e(image.name)} is missing.</p>")
            body.append(f"<figcaption>Alt text to paste: {e(image.alt)}</figcaption></figure>")
        body.append("</section>")
    return ("<!doctype html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">"
            f"<title>Share kit: {e(kit.campaign_name)}</title></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")
