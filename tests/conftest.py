"""Shared fixtures: the sample district and the coded plan the builder makes of it."""

import os

import pytest

# gridgis speaks Chinese by default. The suite's older tests assert the English texts, so the
# suite runs in English (subprocesses inherit it); tests of the Chinese default choose "zh".
os.environ["GRIDGIS_LANG"] = "en"


@pytest.fixture(scope="session")
def sample_layers():
    """The bundled sample district (dict of GeoDataFrames, EPSG:4547). Do not modify: copy."""
    from gridgis.samples import load_sample

    return load_sample()


@pytest.fixture(scope="session")
def sample_plan(sample_layers):
    """The builder's plan of the sample district with its codes (seed 0). Do not modify: copy."""
    from gridgis.codes import assign_codes
    from gridgis.partition import build_grids

    layers = sample_layers
    built = build_grids(layers["communities"], layers["roads"], layers["buildings"],
                        special_sites=layers["special_sites"], rivers=layers["rivers"], seed=0)
    return assign_codes(built.grids, communities=layers["communities"])


@pytest.fixture
def chromium_exe():
    """Path of headless chromium; the test fails under CI=true when it is missing, else skips."""
    from .browser import require_chromium

    return require_chromium()
