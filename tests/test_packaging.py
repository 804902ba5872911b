"""The dependency bounds of pyproject.toml and the lowest-versions CI job agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*?)\s*(;.*)?$")


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _bounds(requirements: list[str]) -> dict[str, str]:
    """Package -> its version specifiers, such as ``'>=2.0'``."""
    bounds = {}
    for requirement in requirements:
        match = REQUIREMENT.match(requirement)
        assert match, requirement
        bounds[_name(match.group(1))] = match.group(3).replace(" ", "")
    return bounds


def _release(version: str) -> tuple[int, ...]:
    """``'2.0'`` and ``'2.0.0'`` alike: the release numbers, padded with zeros."""
    numbers = [int(part) for part in version.split(".")]
    return tuple(numbers + [0] * (4 - len(numbers)))


@pytest.fixture(scope="module")
def project() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


@pytest.fixture(scope="module")
def pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / ".ci" / "constraints-lowest.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[_name(name)] = version.strip()
    return pins


def test_every_dependency_has_a_lower_bound_and_no_cap(project):
    for name, spec in _bounds(project["dependencies"]).items():
        assert re.fullmatch(r">=[0-9][0-9.]*", spec), (
            f"{name}{spec}: give a lower bound only (an upper one needs a known break, "
            "named in a comment)"
        )


def test_the_lowest_versions_job_pins_every_lower_bound(project, pins):
    runtime = _bounds(project["dependencies"])
    assert set(runtime) <= set(pins), f"not pinned: {sorted(set(runtime) - set(pins))}"
    test_extra = _bounds(project["optional-dependencies"]["test"])
    for name, version in pins.items():
        spec = runtime.get(name) or test_extra.get(name)
        assert spec is not None, f"{name}=={version} is pinned but is no dependency"
        assert spec.startswith(">=") and _release(spec[2:]) == _release(version), (
            f"{name}: pinned at {version}, but pyproject.toml says {spec}"
        )


def test_ci_installs_the_lowest_versions_and_runs_the_fast_tests():
    run = (ROOT / ".ci" / "run").read_text()
    assert "-c .ci/constraints-lowest.txt" in run
    assert re.search(r'pytest -m "not slow"', run)
