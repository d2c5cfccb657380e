"""Config validation: good configs pass with defaults filled in; bad ones name the offending key."""

import copy

import pytest

from isometry.config import ConfigError, load_config, validate_config, load_yaml


@pytest.mark.parametrize("name", ["config/config.yaml", "config/paper.yaml", "tests/configs/tiny.yaml"])
def test_shipped_configs_are_valid(repo, name):
    cfg = load_config(repo / name)
    assert cfg["scale"] in ("quick", "paper", "test")
    assert cfg["saxe2014"]["enabled"] is True  # default filled in from the per-paper schema


@pytest.mark.parametrize(
    "patch, needle",
    [
        ({"scle": "quick"}, "'scle'"),
        ({"data": {"mirors": []}}, "config key 'data': unknown key(s) 'mirors'"),
        ({"scale": "huge"}, "config key 'scale'"),
        ({"max_ensemble": -3}, "config key 'max_ensemble'"),
        ({"data": {"cifar10_source": "imagenet"}}, "config key 'data.cifar10_source'"),
        ({"papers": ["saxe2014", "nips"]}, "config key 'papers[1]'"),
        ({"saxe2014": {"typo": 1}}, "config key 'saxe2014': unknown key(s) 'typo'"),
    ],
)
def test_bad_values_name_the_key(repo, patch, needle):
    cfg = copy.deepcopy(load_yaml(repo / "config/config.yaml"))
    for k, v in patch.items():
        cfg[k] = {**cfg[k], **v} if isinstance(v, dict) and isinstance(cfg.get(k), dict) else v
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    assert needle in str(err.value)


def test_init_scheme_definition_lists_known_schemes(repo):
    """The schema's list of scheme names is the registry's list (a user function 'module:function' also passes)."""
    from isometry import init

    schema = load_yaml(repo / "workflow/schemas/config.schema.yaml")
    enum = schema["$defs"]["init_scheme"]["anyOf"][0]["enum"]
    assert set(enum) == set(init.known_schemes())
