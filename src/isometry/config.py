"""Configuration: load YAML, validate against ``workflow/schemas/config.schema.yaml`` (plus the per-paper schema
files it references), fill defaults, and explain errors by naming the offending key.

Snakemake's ``validate`` runs the same schema in ``workflow/rules/common.smk``; this module is what the CLI and the
tests use, and it words the error the way a user needs it::

    config key 'saxe2014.depths[2]': -3 is less than the minimum of 1
    config key 'pennington2017.inits[0]': 'orthgonal' is not a known init scheme (known: gaussian, he, ...; or
    give a user function as 'module.path:function')
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "workflow" / "schemas"


class ConfigError(ValueError):
    pass


def load_yaml(path: str | Path) -> dict:
    with open(path) as fh:
        return yaml.safe_load(fh) or {}


def _validator(schema_dir: Path):
    import jsonschema
    from referencing import Registry, Resource

    def retrieve(uri: str):
        path = Path(uri.removeprefix("file://"))
        from referencing.jsonschema import DRAFT202012

        contents = load_yaml(path)
        contents.pop("$schema", None)  # so that the default-filling validator class applies inside $refs too
        return Resource.from_contents(contents, default_specification=DRAFT202012)

    root = schema_dir / "config.schema.yaml"
    schema = load_yaml(root)
    schema["$id"] = root.resolve().as_uri()
    base = jsonschema.Draft202012Validator

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for prop, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub and prop not in instance:
                    instance[prop] = json.loads(json.dumps(sub["default"]))
        yield from base.VALIDATORS["properties"](validator, properties, instance, schema)

    cls = jsonschema.validators.extend(base, {"properties": set_defaults})
    return cls(schema, registry=Registry(retrieve=retrieve))


def _key(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "<top level>"


def _explain(err) -> str:
    key = _key(err.absolute_path)
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extra = sorted(set(err.instance) - set(allowed)) if isinstance(err.instance, dict) else []
        where = f"config key '{key}'" if err.absolute_path else "config"
        return (f"{where}: unknown key(s) {', '.join(repr(e) for e in extra)} (misspelled?); "
                f"allowed keys: {', '.join(allowed)}")
    if err.validator == "anyOf" and isinstance(err.instance, str):
        enums = [v for sub in err.schema["anyOf"] for v in sub.get("enum", [])]
        if enums:
            return (f"config key '{key}': {err.instance!r} is not a known init scheme (known: {', '.join(enums)}; "
                    "or give a user function as 'module.path:function')")
    if err.validator == "enum":
        return f"config key '{key}': {err.instance!r} is not one of {', '.join(map(str, err.validator_value))}"
    return f"config key '{key}': {err.message}"


def validate_config(cfg: dict, schema_dir: str | Path | None = None) -> dict:
    """Validate ``cfg`` in place (defaults filled in) and return it; raise ``ConfigError`` naming the key."""
    import jsonschema

    validator = _validator(Path(schema_dir) if schema_dir else SCHEMA_DIR)
    errors = sorted(validator.iter_errors(cfg), key=lambda e: (len(list(e.absolute_path)), str(e.absolute_path)))
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        lines = [_explain(best)] + [_explain(e) for e in errors if e is not best][:5]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(dict.fromkeys(lines)))
    _check_user_init_schemes(cfg)
    return cfg


def _check_user_init_schemes(cfg, path=()):
    """'module:function' init schemes must import (the schema can only check their shape)."""
    if isinstance(cfg, dict):
        for k, v in cfg.items():
            _check_user_init_schemes(v, path + (k,))
    elif isinstance(cfg, list):
        for i, v in enumerate(cfg):
            _check_user_init_schemes(v, path + (i,))
    elif isinstance(cfg, str) and path and any("init" in str(p) for p in path) and ":" in cfg:
        try:
            from isometry.init import get_initializer
        except ImportError:  # pragma: no cover - the init package is part of the install
            return
        try:
            get_initializer(cfg)
        except Exception as exc:
            raise ConfigError(f"config key '{_key(path)}': cannot load init scheme {cfg!r}: {exc}") from exc


def load_config(path: str | Path, overrides: dict | None = None) -> dict:
    cfg = load_yaml(path)
    if overrides:
        cfg = deep_update(cfg, overrides)
    return validate_config(cfg)


def deep_update(base: dict, new: dict) -> dict:
    out = dict(base)
    for k, v in new.items():
        out[k] = deep_update(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out
