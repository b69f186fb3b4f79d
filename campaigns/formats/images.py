"""Image files that posts name: confined to the folder they belong to, and checked for type and
size before anything is stored or sent.

A post names its images by a path relative to a folder (the content directory, or a bulk CSV's
folder). `read_image` refuses a path that leaves that folder (an absolute path, `..`, or a
symbolic link pointing out), a file that is not a PNG, JPEG, GIF or WebP image by its first
bytes, and one larger than any network takes, so a file such as the secret key can never be
uploaded as a picture.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path, PurePosixPath, PureWindowsPath

IMAGES_DIR = "images"
#: X's limit for an image, the strictest of the three networks.
MAX_IMAGE_BYTES = 5 * 1024 * 1024
#: What each accepted image type starts with, so a renamed file is not taken for an image.
IMAGE_SIGNATURES = {".png": (b"\x89PNG\r\n\x1a\n",), ".jpg": (b"\xff\xd8\xff",),
                    ".jpeg": (b"\xff\xd8\xff",), ".gif": (b"GIF87a", b"GIF89a"),
                    ".webp": (b"RIFF",)}
KINDS = "PNG, JPEG, GIF or WebP"


class ImageRefused(ValueError):
    """An image cannot be used; the message says why, for the person who chose it."""


def confined(folder: Path, name: str) -> Path:
    """`name` inside `folder`, resolved; raises ImageRefused for a path that leaves it."""
    if (not name or "\0" in name or PurePosixPath(name).is_absolute()
            or PureWindowsPath(name).is_absolute() or PureWindowsPath(name).drive):
        raise ImageRefused(f"{name!r}: give the image's path relative to {_where(folder)}")
    base = folder.resolve()
    try:
        path = (base / name).resolve()
    except OSError as exc:  # a name too long for the file system, say
        raise ImageRefused(f"{name[:80]!r}: not a usable file name ({exc.strerror})") from None
    if not path.is_relative_to(base):
        raise ImageRefused(f"{name!r} is outside {_where(folder)}; images must be inside it")
    return path


def read_image(folder: Path, name: str) -> bytes:
    """The bytes of image `name` in `folder`, checked; raises ImageRefused."""
    path = confined(folder, name)
    try:
        if not path.is_file():
            raise ImageRefused(f"image file {name[:200]!r} not found in {_where(folder)}")
        size = path.stat().st_size
        if size > MAX_IMAGE_BYTES:
            raise ImageRefused(_too_big(name, size))
        with path.open("rb") as stream:
            data = stream.read(MAX_IMAGE_BYTES + 1)
    except OSError as exc:
        raise ImageRefused(f"image file {name[:200]!r} cannot be read "
                           f"({exc.strerror or exc})") from None
    check_image(name, data)
    return data


def check_image(name: str, data: bytes) -> None:
    """Refuse `data` unless it is an image of the type its name says, small enough to post."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in IMAGE_SIGNATURES:
        raise ImageRefused(f"{name}: use a {KINDS} image")
    if not data.startswith(IMAGE_SIGNATURES[suffix]) or (
            suffix == ".webp" and data[8:12] != b"WEBP"):
        raise ImageRefused(f"{name}: the file is not a {suffix[1:].upper()} image")
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageRefused(_too_big(name, len(data)))


def stored_name(file_name: str, data: bytes) -> str:
    """Where an image is kept under the content directory ('images/poster-1a2b3c4d5e.png'): the
    name carries a digest of the bytes, so the same image is one file and a different one never
    replaces it."""
    suffix = PurePosixPath(file_name).suffix.lower()
    stem = re.sub(r"[^a-z0-9]+", "-", PurePosixPath(file_name).stem.lower()).strip("-")[:60]
    return f"{IMAGES_DIR}/{stem or 'image'}-{hashlib.sha256(data).hexdigest()[:10]}{suffix}"


def _too_big(name: str, size: int) -> str:
    return (f"{name}: {size / 1e6:.1f} MB; images may be at most "
            f"{MAX_IMAGE_BYTES // (1024 * 1024)} MB")


def _where(folder: Path) -> str:
    return f"the folder {folder}"
