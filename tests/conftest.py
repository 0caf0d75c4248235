"""Shared test fixtures: the repo on sys.path, quiet TensorFlow, the shared data folder (skipped when absent)."""

import os
import sys

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
SHARED_VIDEO = os.path.join(os.path.dirname(REPO), "shared", "data", "trainingVideo")


@pytest.fixture
def shared_video():
    """Path of ../shared/data/trainingVideo, or skip: the authors' clips are never committed here."""
    if not os.path.isdir(SHARED_VIDEO):
        pytest.skip(f"shared clips not found at {SHARED_VIDEO} (CI places ../shared beside the clone)")
    return SHARED_VIDEO
