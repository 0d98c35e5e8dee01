"""What the declared org answers: inherited SOPs, consumers, coverage."""

from __future__ import annotations

from pathlib import Path

from orgplane.org.edit import edit_org_file
from orgplane.org.loader import load_org


def test_agent_seats_inherit_the_sops_of_the_people_above_them(agency: Path) -> None:
    org = load_org(agency)
    ceo_sops = org.seats["ceo"].sops
    coo_sops = org.seats["coo"].sops
    assert org.effective_sops("radar") == ceo_sops  # radar reports to the founder
    assert org.effective_sops("dash") == [*coo_sops, *ceo_sops]  # nearest first
    assert org.effective_sops("pepper") == [*org.seats["client-lead"].sops, *ceo_sops]
    assert org.effective_sops("ceo") == ceo_sops


def test_sops_of_agent_seats_above_are_not_inherited(agency: Path) -> None:
    def agent_manager(document: dict) -> None:  # type: ignore[type-arg]
        document["seats"]["radar"]["sops"] = ["Summarise in five bullets."]
        document["seats"]["nick"]["reports_to"] = "radar"

    org = edit_org_file(agency, agent_manager)
    assert "Summarise in five bullets." not in org.effective_sops("nick")
    assert org.effective_sops("nick") == org.seats["ceo"].sops


def test_consumers_and_coverage(agency: Path) -> None:
    org = load_org(agency)
    assert set(org.consumers_of("dash-analysis")) == {"radar", "dan"}
    assert org.consumers_of("dash-analysis")["dan"].protocol == "use_last_good"
    assert org.has_coverage("dash-analysis")

    def uncover(document: dict) -> None:  # type: ignore[type-arg]
        del document["outputs"]["dash-analysis"]["coverage_seat"]
        del document["seats"]["radar"]["inputs"]["arin-coaching"]

    org = edit_org_file(agency, uncover)
    assert not org.has_coverage("dash-analysis")  # critical without a coverage seat
    assert not org.has_coverage("arin-coaching")  # nobody says what they do without it
