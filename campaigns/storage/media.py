"""Images kept under the content directory, where the worker reads them from."""

from __future__ import annotations

from pathlib import Path

from campaigns.formats.images import check_image, stored_name


def store_image(content_dir: Path, file_name: str, data: bytes) -> str:
    """Save an image under the content's images folder, after checking it; returns its path as
    a post names it ('images/poster-1a2b3c4d5e.png'). Raises ImageRefused."""
    check_image(file_name, data)
    relative = stored_name(file_name, data)
    target = content_dir / relative
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        partial.write_bytes(data)
        partial.replace(target)
    return relative
