"""Reading the database URL a person wrote (``--db`` / ``ORGPLANE_DB``) into one orgplane uses.

Only two backends, each through one driver: SQLite (``sqlite:///path``) and PostgreSQL through
psycopg 3 (``postgresql://user@host:5432/dbname``; ``postgres://`` and ``postgresql+psycopg://``
are the same). Whatever the text, :func:`normalise_url` either returns a URL that SQLAlchemy can
build an engine from or raises :class:`~orgplane.errors.DatabaseUrlError` saying what to write.
A URL never leaves a part to a default that would pick a database the user did not name.
"""

from __future__ import annotations

import math
import unicodedata
from functools import cache

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from orgplane.errors import DatabaseUrlError

URL_HINT = "write sqlite:///path/to/orgplane.db or postgresql://user@host:5432/dbname"
_SQLITE_QUERY = frozenset({"timeout"})
_MAX_LENGTH = 4096


def normalise_url(url: str) -> str:
    """The URL in the form orgplane opens (``postgresql+psycopg://`` for PostgreSQL).

    Raises DatabaseUrlError for anything else: empty, malformed, another backend or driver, a
    SQLite URL with no file, a PostgreSQL URL with no host or no database, control characters.
    """
    shown = _shown(url)
    if not url:
        raise DatabaseUrlError(f"--db is empty; {URL_HINT}", url=url)
    if len(url) > _MAX_LENGTH:
        raise DatabaseUrlError(
            f"--db is {len(url)} characters long; a database URL is a short line, {URL_HINT}",
            url=url,
        )
    if url != url.strip() or _has_control(url):
        raise DatabaseUrlError(
            f"--db {shown} has spaces around it or control characters in it; {URL_HINT}", url=url
        )
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError, TypeError):  # a bad port is a ValueError
        hint = "for a file, write sqlite:///PATH; " if "://" not in url else ""
        raise DatabaseUrlError(
            f"--db {shown} is not a database URL; {hint}{URL_HINT}", url=url
        ) from None
    parts = [parsed.username, parsed.password, parsed.host, parsed.database]
    parts += [str(v) for v in parsed.query.values()]
    if any(isinstance(p, str) and _has_control(p) for p in parts):
        raise DatabaseUrlError(
            f"--db {shown} encodes a control character (such as %00); {URL_HINT}", url=url
        )
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite(url, parsed, shown)
    if backend == "postgresql":
        return _postgresql(url, parsed, shown)
    raise DatabaseUrlError(
        f"--db {shown}: only SQLite and PostgreSQL are supported, not {backend!r}; {URL_HINT}",
        url=url,
    )


def _sqlite(url: str, parsed: URL, shown: str) -> str:
    if parsed.get_driver_name() not in ("pysqlite", ""):
        raise DatabaseUrlError(
            f"--db {shown}: SQLite is opened with Python's sqlite3; write sqlite:///PATH", url=url
        )
    if parsed.host or parsed.port or parsed.username or parsed.password:
        raise DatabaseUrlError(
            f"--db {shown}: a SQLite URL names a file, with three slashes: sqlite:///PATH "
            "(four for an absolute path: sqlite:////abs/path.db)",
            url=url,
        )
    if not parsed.database:
        raise DatabaseUrlError(
            f"--db {shown} names no file (an in-memory store is lost when the command ends); "
            "write sqlite:///path/to/orgplane.db",
            url=url,
        )
    unknown = sorted(set(parsed.query) - _SQLITE_QUERY)
    if unknown:
        raise DatabaseUrlError(
            f"--db {shown}: unknown SQLite option {unknown[0]!r}; the one orgplane reads is "
            "?timeout=SECONDS",
            url=url,
        )
    if "timeout" in parsed.query:
        _positive_number(url, shown, "timeout", parsed.query["timeout"])
    # The text as written (re-rendering would percent-encode a non-ASCII path).
    return "sqlite://" + url.split("://", 1)[1]


def _postgresql(url: str, parsed: URL, shown: str) -> str:
    if parsed.get_driver_name() != "psycopg":
        raise DatabaseUrlError(
            f"--db {shown}: PostgreSQL is reached through psycopg 3; write postgresql://...",
            url=url,
        )
    host = parsed.host or parsed.query.get("host")
    if not host:
        raise DatabaseUrlError(
            f"--db {shown} names no server; write postgresql://user@HOST:5432/dbname "
            "(or ?host=/path/to/socket-folder for a Unix socket)",
            url=url,
        )
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise DatabaseUrlError(
            f"--db {shown}: port {parsed.port} is not a TCP port (1 to 65535); PostgreSQL's "
            "usual one is 5432",
            url=url,
        )
    if not parsed.database:
        raise DatabaseUrlError(
            f"--db {shown} names no database, and orgplane will not guess one; write "
            "postgresql://user@host:5432/DBNAME",
            url=url,
        )
    for key, value in parsed.query.items():
        if key not in _libpq_keywords():
            raise DatabaseUrlError(
                f"--db {shown}: {key!r} is not a PostgreSQL connection option; see "
                "https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-PARAMKEYWORDS",
                url=url,
            )
        if not isinstance(value, str):
            raise DatabaseUrlError(f"--db {shown}: {key!r} is given twice; give it once", url=url)
    if "connect_timeout" in parsed.query:
        _positive_number(url, shown, "connect_timeout", parsed.query["connect_timeout"])
    return url


def _positive_number(url: str, shown: str, key: str, value: str | tuple[str, ...]) -> None:
    try:
        number = float(value) if isinstance(value, str) else math.nan
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and number > 0):
        raise DatabaseUrlError(
            f"--db {shown}: ?{key}= is a number of seconds above 0, e.g. ?{key}=30", url=url
        )


@cache
def _libpq_keywords() -> frozenset[str]:
    """Every connection option the installed libpq knows (what psycopg passes on)."""
    from psycopg import pq

    return frozenset(o.keyword.decode() for o in pq.Conninfo.get_defaults())


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cs", "Cf") for ch in text)


def _shown(url: str) -> str:
    """The URL as quoted in a message: one line, bounded, password hidden when it parses."""
    try:
        text = make_url(url).render_as_string(hide_password=True) if "@" in url else url
    except (ArgumentError, ValueError, TypeError):
        text = url
    text = text.encode("unicode_escape").decode("ascii") if _has_control(text) else text
    return repr(text[:200] + ("..." if len(text) > 200 else ""))
