"""Which images a schedule may post: an http(s) link, or an image file in the media folder.

Never an arbitrary path: `/schedule image … | /etc/passwd` would post the host's files. A link
is checked here for its shape (scheme, host, extension, no loopback or private address);
the adapter that fetches it caps its size and checks its type and first bytes. A local file
must resolve (symlinks followed) inside `schedule.media_dir` and be a regular PNG, JPEG, GIF
or WebP file of at most `schedule.max_image_bytes`. The same check runs when a schedule is
made and again before each post, so a schedule stored before these rules cannot post a file.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from bot.config import ScheduleSettings
from bot.features.schedule.triggers import ScheduleProblem
from bot.i18n import N_

__all__ = [
    "IMAGE_EXTENSIONS",
    "ImageRefused",
    "check_image",
    "image_kind",
    "is_public_address",
    "resolve_image",
]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".webp")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_MB = 1024 * 1024


class ImageRefused(ScheduleProblem):
    """An image a schedule may not post; the message says why and what is allowed."""


def image_kind(head: bytes) -> str | None:
    """The image format the first bytes of a file announce ("png", "jpeg", "gif", "webp")."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def is_public_address(address: str) -> bool:
    """False for loopback, private, link-local, reserved and multicast addresses."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _is_link(image: str) -> bool:
    # "C:" never reaches here on the platforms Hearth runs on; any "scheme:" is a link.
    return bool(_SCHEME.match(image))


def _size(size: int) -> str:
    return f"{size / _MB:.1f} MB" if size >= _MB // 10 else f"{max(size // 1024, 1)} KB"


def _check_link(image: str, settings: ScheduleSettings) -> str:
    parts = urlsplit(image)
    if parts.scheme.lower() not in ("http", "https"):
        raise ImageRefused(
            N_(
                "{value} cannot be posted: an image is an http:// or https:// link, or an "
                "image file in the media folder."
            ),
            value=repr(image),
        )
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise ImageRefused(
            N_("{value} is not a complete link; e.g. https://example.com/cat.png"),
            value=repr(image),
        )
    suffix = PurePosixPath(parts.path).suffix.lower()
    if suffix and suffix not in IMAGE_EXTENSIONS:
        raise ImageRefused(
            N_("{value} does not link to an image: a link may end in {extensions}, or in none."),
            value=repr(image),
            extensions=", ".join(IMAGE_EXTENSIONS),
        )
    if not settings.allow_private_urls and _is_local_host(host):
        raise ImageRefused(
            N_(
                "{value} points at this machine or a private network; Hearth posts images "
                "from public links only."
            ),
            value=repr(image),
        )
    return image


def _is_local_host(host: str) -> bool:
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        return not is_public_address(host)
    except ValueError:  # a name: the adapter checks what it resolves to
        return False


def _media_root(settings: ScheduleSettings, image: str) -> Path:
    if settings.media_dir is None:
        raise ImageRefused(
            N_(
                "{value} is not an http(s) link, and this Hearth posts no local files "
                "(schedule.media_dir is not set): link to an image, e.g. "
                "https://example.com/cat.png"
            ),
            value=repr(image),
        )
    root = settings.media_dir.expanduser()
    if not root.is_dir():
        raise ImageRefused(
            N_("the media folder (schedule.media_dir) does not exist; ask whoever runs Hearth")
        )
    return root.resolve()


def _outside(image: str) -> ImageRefused:
    return ImageRefused(
        N_(
            "{value} is not in the media folder: name an image file inside it, e.g. "
            "banner.png or events/banner.png (.. and links out of the folder are refused)."
        ),
        value=repr(image),
    )


def _media_file(image: str, settings: ScheduleSettings) -> tuple[Path, Path]:
    """The file's resolved path and the resolved media folder."""
    root = _media_root(settings, image)
    given = Path(image)
    if ".." in given.parts:
        raise _outside(image)
    try:
        path = (given if given.is_absolute() else root / given).resolve(strict=True)
    except FileNotFoundError:
        raise ImageRefused(
            N_("there is no file {value} in the media folder"), value=repr(image)
        ) from None
    except (OSError, RuntimeError):  # a symlink loop, a permission problem
        raise _outside(image) from None
    if not path.is_relative_to(root):
        raise _outside(image)
    if not path.is_file():
        raise ImageRefused(N_("{value} is not a regular file"), value=repr(image))
    return path, root


def _check_file(image: str, path: Path, settings: ScheduleSettings) -> None:
    not_image = ImageRefused(
        N_("{value} is not an image: use a PNG, JPEG, GIF or WebP file ({extensions})."),
        value=repr(image),
        extensions=", ".join(IMAGE_EXTENSIONS),
    )
    if path.suffix.lower() not in IMAGE_EXTENSIONS:
        raise not_image
    try:
        with path.open("rb") as file:
            head = file.read(16)
        size = path.stat().st_size
    except OSError:
        raise ImageRefused(N_("Hearth cannot read {value}"), value=repr(image)) from None
    if image_kind(head) is None:
        raise not_image
    if size > settings.max_image_bytes:
        raise ImageRefused(
            N_("{value} is too large ({size}); an image may have at most {limit}"),
            value=repr(image),
            size=_size(size),
            limit=_size(settings.max_image_bytes),
        )


def check_image(image: str, settings: ScheduleSettings) -> str:
    """The image as a schedule stores it: the link, or the file's name in the media folder.

    Raises:
        ImageRefused: not an http(s) link to a public host, nor an image file in the media
            folder (named with what is allowed).
    """
    image = image.strip()
    if _is_link(image):
        return _check_link(image, settings)
    path, root = _media_file(image, settings)
    _check_file(image, path, settings)
    return path.relative_to(root).as_posix()


def resolve_image(image: str, settings: ScheduleSettings) -> str:
    """What to post for a stored image: the link, or the file's full resolved path.

    Raises:
        ImageRefused: the stored image is no longer allowed (a path stored before these
            rules, a file moved or changed, a folder no longer configured).
    """
    image = image.strip()
    if _is_link(image):
        return _check_link(image, settings)
    path, _root = _media_file(image, settings)
    _check_file(image, path, settings)
    return str(path)
