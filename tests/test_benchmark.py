"""benchmarks/benchmark.py runs a case in a child process from a JSON spec, possibly at another commit (--ab)."""

import json
import os
import sys

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "benchmarks"))
import benchmark  # noqa: E402


@pytest.mark.parametrize("name", ["texture_quick", "recovery_quick", "st_recover_quick", "st_interpolate_quick"])
def test_a_case_spec_rebuilds_the_case_config_after_a_json_round_trip(name):
    spec, config = benchmark.case_spec(name)
    trainer = benchmark.build_trainer(json.loads(json.dumps(spec)))
    nested = {key for key, value in vars(config).items() if hasattr(value, "__dataclass_fields__")}
    # Every field a child can set is the case's (nested settings, e.g. a recovery's mask, are the trainer's
    # `visible` argument instead, so the spec leaves them out).
    rebuilt = {key: value for key, value in vars(trainer.config).items() if key not in nested}
    assert rebuilt == {key: value for key, value in vars(config).items() if key not in nested}
    occluded = trainer.visible is not None and float(np.min(trainer.visible)) == 0.0
    assert occluded == spec["masked"]
    assert benchmark.case_flops(name, config, spec["clips"]) > 0


def test_an_unknown_commit_for_ab_is_refused_with_its_name():
    with pytest.raises(SystemExit, match="'no-such-ref' is not a commit"):
        benchmark.worktree("no-such-ref")
