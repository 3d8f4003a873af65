"""The README and docs/: links that resolve inside the repository, the study cited in full, CITATION.cff."""

from __future__ import annotations

import re
import subprocess

import yaml
from tests.checkout import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
OUTSIDE = ("thesis" + ".txt", ".." + "/shared")  # Paths to the study outside the repository (split so this file has none).


def test_relative_links_resolve_inside_the_repository():
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" in target:
                continue
            path = (page.parent / target).resolve()
            assert path.exists() and ROOT in path.parents, f"{page.name}: {target}"


def test_no_file_points_outside_the_repository_for_the_study():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    if not tracked:  # Not a git checkout (an sdist): the files on disk.
        tracked = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file() and ".git" not in p.parts]
    for name in tracked:
        path = ROOT / name
        if path.suffix in {".py", ".md", ".toml", ".cff", ".sh", ""} and path.is_file():
            text = path.read_text(errors="ignore")
            assert not any(outside in text for outside in OUTSIDE), name


def test_citation_cff_cites_the_software_and_the_study():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software" and cff["license"] == "MIT"
    assert {"title", "authors", "message", "version"} <= set(cff)
    study = cff["preferred-citation"]
    assert study["type"] == "thesis" and study["year"] == 2025 and study["authors"][0]["family-names"] == "Korkmaz"
    assert "Chalmers University of Technology" in study["institution"]["name"]
    main_title = study["title"].split(":")[0]
    for page in ("README.md", "docs/thesis.md"):
        assert main_title in " ".join((ROOT / page).read_text().split()), page
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
