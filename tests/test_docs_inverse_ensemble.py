"""docs/inverse.md's ensemble section: its TOML example validates to what the text says (no training)."""

import tomllib

from pinnbalance import config as cfg
from pinnbalance.ensemble import member_seeds
from test_docs_inverse import block

HEADING = "Ensembles: a mean prediction and its spread"


def test_the_ensemble_example_is_six_members_with_their_own_held_out_observations():
    config = cfg.from_dict(tomllib.loads(block(HEADING, "toml")))
    assert config.ensemble.members == 6 and config.seeds == member_seeds(1234, 6)
    assert config.train.lm.holdout_folds == "per-run" and config.train.lm.holdout_term == "data"
    assert [config.train.lm.fold_seed(i) for i in range(6)] == list(range(6))  # holdout_seed 0 + i
    assert config.to_dict()["train"]["seeds"] == [1234]
