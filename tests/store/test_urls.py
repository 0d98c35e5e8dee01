"""Whatever text is given as ``--db``, orgplane either opens a URL it can use or says, in one
line, what to write instead; it never guesses a database the text does not name."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from orgplane.errors import DatabaseUrlError
from orgplane.store.engine import resolve_db_url
from orgplane.store.urls import normalise_url

PREFIXES = [
    "",
    "sqlite://",
    "sqlite:///",
    "sqlite:////",
    "sqlite+pysqlite:///",
    "postgresql://",
    "postgres://",
    "postgresql+psycopg://",
    "postgresql+psycopg2://",
    "mysql://",
    "://",
]
url_like = st.builds(
    lambda prefix, body: prefix + body,
    st.sampled_from(PREFIXES),
    st.text(
        alphabet=st.sampled_from(list("abc/:@?&=%.-_ 0123456789\x00\n\u00fc\u202e\U0001f600")),
        max_size=40,
    ),
)


def usable(url: str) -> None:
    parsed = make_url(url)
    assert parsed.get_backend_name() in ("sqlite", "postgresql")
    assert parsed.database, "a usable URL names its database"
    if parsed.get_backend_name() == "postgresql":
        assert parsed.get_driver_name() == "psycopg"
        assert parsed.host or parsed.query.get("host")
    create_engine(parsed).dispose()  # builds without connecting


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=60), url_like))
def test_any_text_is_a_usable_url_or_a_database_url_error(text: str) -> None:
    try:
        url = normalise_url(text)
    except DatabaseUrlError as exc:
        assert "\n" not in str(exc) and "\r" not in str(exc)
        assert exc.url is not None
        return
    usable(url)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgres://u@db.example.com/orgplane", "postgresql+psycopg://u@db.example.com/orgplane"),
        (
            "postgresql://u@h:5432/d?sslmode=require",
            "postgresql+psycopg://u@h:5432/d?sslmode=require",
        ),
        ("postgresql:///d?host=/run/postgresql", "postgresql+psycopg:///d?host=/run/postgresql"),
        ("sqlite:///orgplane.db", "sqlite:///orgplane.db"),
        ("sqlite+pysqlite:////tmp/x.db?timeout=5", "sqlite:////tmp/x.db?timeout=5"),
        ("sqlite:///d\u00f6ner/\u00fcber.db", "sqlite:///d\u00f6ner/\u00fcber.db"),
    ],
)
def test_the_forms_people_write_are_accepted(text: str, expected: str) -> None:
    assert normalise_url(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "is empty"),
        ("orgplane.db", "for a file, write sqlite:///PATH"),
        ("sqlite://", "names no file"),
        ("sqlite:///", "names no file"),
        ("sqlite://host/x.db", "three slashes"),
        ("sqlite:///x.db?mode=ro", "unknown SQLite option 'mode'"),
        ("sqlite:///x.db?timeout=nan", "number of seconds above 0"),
        ("postgresql://", "names no server"),
        ("postgresql:///orgplane", "names no server"),
        ("postgresql://db.example.com", "names no database"),
        ("postgresql://db.example.com/", "names no database"),
        ("postgresql://h:port/d", "is not a database URL"),
        ("postgresql://h:99999/d", "not a TCP port"),
        ("postgresql://h:0/d", "not a TCP port"),
        ("postgresql://h/d?colour=blue", "'colour' is not a PostgreSQL connection option"),
        ("postgresql://h/d?sslmode=a&sslmode=b", "given twice"),
        ("postgresql+psycopg2://h/d", "psycopg 3"),
        ("mysql://h/d", "only SQLite and PostgreSQL"),
        ("sqlite:///a\x00b.db", "control characters"),
        ("sqlite:///a%00b.db", "encodes a control character"),
        ("sqlite:///x.db\n", "control characters"),
        (" sqlite:///x.db", "spaces around it"),
        ("sqlite:///" + "x" * 5000, "a short line"),
    ],
)
def test_what_cannot_be_used_is_refused_with_the_fix(text: str, says: str) -> None:
    with pytest.raises(DatabaseUrlError) as caught:
        normalise_url(text)
    message = str(caught.value)
    assert says in message
    assert "\n" not in message and len(message) < 400


def test_a_password_is_never_quoted_back() -> None:
    with pytest.raises(DatabaseUrlError) as caught:
        normalise_url("postgresql://u:hunter2@h/d?colour=blue")
    assert "hunter2" not in str(caught.value)


def test_an_empty_environment_variable_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORGPLANE_DB", "")
    assert resolve_db_url(None, None).endswith("/orgplane.db")
    with pytest.raises(DatabaseUrlError):
        resolve_db_url("", None)  # but an empty --db is a mistake, said so
