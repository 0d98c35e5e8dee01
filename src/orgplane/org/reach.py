"""Can the people an escalation goes to be reached? Checks ``orgplane validate`` refuses on and
``audit readiness`` names.

They run after loading, not during it: asking Apprise whether it understands a URL costs its
import and plugin scan (about 0.3 s), which every command that loads the org would pay.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from orgplane.errors import Problem
from orgplane.org.models import Org, url_variables
from orgplane.respond.recipients import NOTIFYING_ACTIONS, tier_recipients

PLACEHOLDER = "orgplane"
"""What a ``${NAME}`` stands for when validate asks Apprise to parse a URL (the environment of
the machine that validates is not the one that sends)."""


@dataclass(frozen=True)
class Finding:
    """One reachability finding: the dotted path of the key it is about, the subject
    (``seat`` or ``tier`` and its id) and the message with its fix."""

    path: str
    subject_kind: Literal["seat", "tier"]
    subject_id: str
    message: str


def validate_problems(org: Org) -> list[Problem]:
    """What ``orgplane validate`` refuses: URLs Apprise does not understand and escalation
    targets nobody can reach, each as a Problem at the line of its key."""
    found = [*url_findings(org), *unreachable(org)]
    label = str(org.source or "org.yaml")
    return [Problem(label, org.line(f.path), f.message) for f in found]


def url_findings(org: Org) -> list[Finding]:
    """Every ``notify_urls`` entry Apprise cannot parse (nothing is sent to find out)."""
    found: list[Finding] = []
    for path, kind, owner, url in _declared_urls(org):
        reason = apprise_problem(url)
        if reason:
            found.append(Finding(path, kind, owner, f"{_place(path)}: {reason}"))
    return found


def unreachable(org: Org) -> list[Finding]:
    """Tiers that tell a person (``escalate``, or ``wait`` at its deadline) whose first
    recipient has no ``notify_urls`` while the tier has none either."""
    found: list[Finding] = []
    for tier_id, tier in org.urgency.items():
        if tier.action not in NOTIFYING_ACTIONS or tier.notify_urls:
            continue
        for recipient, failing in tier_recipients(org, tier_id).items():
            seat = org.seats.get(recipient)
            if seat is None or seat.notify_urls:
                continue
            why = f" (owner of {', '.join(failing)})" if failing else ""
            path = f"urgency.{tier_id}.notify" if tier.notify else f"urgency.{tier_id}"
            found.append(
                Finding(
                    path,
                    "tier",
                    tier_id,
                    f"urgency.{tier_id}: tier {tier_id!r} ({tier.action}) tells {recipient!r}"
                    f"{why}, who has no notify_urls, and the tier has none either; add "
                    f"'notify_urls: [<Apprise URL>]' to seat {recipient!r} or to the tier",
                )
            )
    return found


def up_the_line(org: Org) -> list[Finding]:
    """Seats above a tier's recipients that an escalation past its deadline would reach with
    no URL of theirs nor of the tier (a warning: the first person can be reached)."""
    found: dict[str, Finding] = {}
    for tier_id, tier in org.urgency.items():
        if tier.action not in NOTIFYING_ACTIONS or tier.notify_urls:
            continue
        for recipient in tier_recipients(org, tier_id):
            for above in org.reporting_line(recipient):
                if above.notify_urls or above.id in found:
                    continue
                found[above.id] = Finding(
                    f"seats.{above.id}",
                    "seat",
                    above.id,
                    f"seat {above.id!r} is where an escalation of tier {tier_id!r} goes when "
                    f"{recipient!r} misses its deadline, but it has no notify_urls; add "
                    "'notify_urls: [<Apprise URL>]' to it",
                )
    return list(found.values())


def missing_variables(org: Org, environ: dict[str, str] | None = None) -> list[Finding]:
    """``${NAME}`` in a notification URL whose variable this environment does not set (a send
    from here would fail naming it)."""
    env = os.environ if environ is None else environ
    found: list[Finding] = []
    for path, kind, owner, url in _declared_urls(org):
        for name in dict.fromkeys(url_variables(url)):
            if name not in env:
                found.append(
                    Finding(
                        path,
                        kind,
                        owner,
                        f"{_place(path)} reads ${{{name}}}, which is not set in this "
                        f"environment; export {name} where orgplane sends notifications",
                    )
                )
    return found


def apprise_problem(url: str) -> str | None:
    """Why Apprise cannot use ``url`` (with each ``${NAME}`` standing for a placeholder), or
    None when it can. Parses only: nothing is sent."""
    from orgplane.respond.delivery import apprise_understands, known_scheme

    concrete = url
    for name in url_variables(url):
        concrete = concrete.replace(f"${{{name}}}", PLACEHOLDER)
    if apprise_understands(concrete):
        return None
    scheme = url.split("://", 1)[0]
    if not known_scheme(scheme):
        return (
            f"{scheme}:// is not a notification service Apprise knows; write a URL of one "
            "it supports (json://, mailto://, slack://, ntfy://, ...)"
        )
    return f"Apprise cannot read {redact(url)!r} as a {scheme}:// URL; check its parts"


def redact(url: str) -> str:
    """``url`` with the password of its ``user:password@`` part hidden."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        credentials, _, host = authority.rpartition("@")
        user = credentials.split(":", 1)[0]
        authority = f"{user}:****@{host}" if ":" in credentials else authority
    return f"{scheme}://{authority}{slash}{path}"


def _declared_urls(org: Org) -> list[tuple[str, Literal["seat", "tier"], str, str]]:
    urls: list[tuple[str, Literal["seat", "tier"], str, str]] = []
    for seat in org.seats.values():
        for index, url in enumerate(seat.notify_urls):
            urls.append((f"seats.{seat.id}.notify_urls.{index}", "seat", seat.id, url))
    for tier_id, tier in org.urgency.items():
        for index, url in enumerate(tier.notify_urls):
            urls.append((f"urgency.{tier_id}.notify_urls.{index}", "tier", tier_id, url))
    return urls


def _place(path: str) -> str:
    section, item, key, index = path.split(".")
    return f"{section}.{item}: {key}[{index}]"
