"""Configuration: load YAML, validate against ``workflow/schemas/config.schema.yaml`` (plus the per-paper schema
files it references), fill defaults, and explain errors by naming the offending key.

Snakemake's ``validate`` runs the same schema in ``workflow/rules/common.smk``; this module is what the CLI and the
tests use, and it words the error the way a user needs it::

    config key 'saxe2014.depths[2]': -3 is less than the minimum of 1
    config key 'pennington2017.inits[0]': 'orthgonal' is not a known init scheme (known: gaussian, he, ...; or
    give a user function as 'module.path:function')

Reading a file (``load_config_file``): YAML 1.2 numbers (``1e-3``, ``1.0e20``; PyYAML's YAML 1.1 reads them as
text), a duplicate key is an error (PyYAML keeps the last one silently), and a syntax error, a missing file or a
directory is a ``ConfigError`` naming the file and line.

Validating (``validate_config``), in this order:

1. values that arrived as text where the schema wants a number, an integer, a boolean or null are converted
   (Snakemake's ``--config key={nested: 1e-3}`` and its YAML loader deliver ``'1e-3'``, ``'4'``, ``'true'``);
2. NaN and infinities are rejected everywhere (the schema's ``minimum`` / ``exclusiveMinimum`` cannot see NaN);
3. the JSON schema (defaults filled in);
4. cross-key constraints (``CONSTRAINTS``: e.g. a reference depth must be one of the swept depths; see
   ``OneOf`` / ``Compare`` and ``register_constraint``);
5. user init schemes ``module:function`` must import.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "workflow" / "schemas"


class ConfigError(ValueError):
    pass


# ------------------------------------------------------------------------------------------------ reading YAML
_FLOAT_12 = re.compile(r"""^(?:
    [-+]?(?:[0-9][0-9_]*)?\.[0-9_]+(?:[eE][-+]?[0-9]+)?    # 1.5  .5  1.5e-3  1.0e20
   |[-+]?[0-9][0-9_]*\.(?:[eE][-+]?[0-9]+)?                # 1.  1.e5
   |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+                       # 1e-3  1E5  2e+4
   |[-+]?\.(?:inf|Inf|INF)
   |\.(?:nan|NaN|NAN))$""", re.X)


class DuplicateKeyError(yaml.MarkedYAMLError):
    pass


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 floats (``1e-3`` is a number) and duplicate keys as errors."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:             # unhashable key: let PyYAML report it
                    continue
                if first is not None:
                    raise DuplicateKeyError(
                        "while constructing a mapping", node.start_mark,
                        f"duplicate key {key!r} (first given on line {first.line + 1}; YAML would silently keep "
                        "the last one)", key_node.start_mark)
                seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in rs if tag != "tag:yaml.org,2002:float"]
    for ch, rs in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+0123456789."))


def parse_yaml(text: str, name: str = "<string>"):
    """Parse YAML text with ``_Loader``; errors become ``ConfigError`` naming ``name`` and the line."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}, line {mark.line + 1}, column {mark.column + 1}" if mark else name
        if isinstance(exc, DuplicateKeyError):
            raise ConfigError(f"{where}: {exc.problem}") from None
        detail = " ".join(x for x in (exc.context, exc.problem) if x)
        raise ConfigError(f"{where}: not valid YAML: {detail} (check the indentation -- spaces only, no tabs -- and "
                          "the quotes and brackets around that line)") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name}: not valid YAML: {exc}") from None


def _parse_json(text: str, name: str):
    """A JSON config (duplicate keys are errors here too); None when the text is not JSON (then it is read as
    YAML)."""
    def pairs(items):
        out = {}
        for k, v in items:
            if k in out:
                raise ConfigError(f"{name}: duplicate key {k!r} (JSON would silently keep the last one)")
            out[k] = v
        return out

    def constant(c):
        raise ConfigError(f"{name}: {c} is not a finite number (NaN and infinities are not accepted)")

    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except json.JSONDecodeError:
        return None


def load_yaml(path: str | Path) -> dict:
    with open(path) as fh:
        return parse_yaml(fh.read(), str(path)) or {}


def load_config_file(path: str | Path) -> dict:
    """Read a config file (YAML or JSON) and return it as a dict, *not yet validated*.

    Every problem is a ``ConfigError`` that names the file (and the line, for YAML): a missing file, a directory,
    an unreadable file, a YAML syntax error, a duplicate key, a top level that is not a mapping. Numbers follow YAML
    1.2 (``1e-3`` is 0.001). Call it before Snakemake parses the same file: Snakemake says only "Config file is not
    valid JSON or YAML".
    """
    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"config file {p}: is a directory, not a YAML file (give e.g. {p}/config.yaml)")
    try:
        text = p.read_text()
    except FileNotFoundError:
        raise ConfigError(f"config file {p}: no such file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {p}: not a text file ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"config file {p}: cannot read it ({exc.strerror or exc})") from None
    cfg = _parse_json(text, str(p)) if text.lstrip().startswith("{") else None   # JSON first, as Snakemake does
    if cfg is None:
        cfg = parse_yaml(text, str(p))
    if cfg is None:
        return {}
    if not isinstance(cfg, dict):
        raise ConfigError(f"config file {p}: the top level must be a mapping of keys (like 'scale: quick'), "
                          f"got a {type(cfg).__name__}")
    return cfg


# ------------------------------------------------------------------------------------------------ the schema
def _validator(schema_dir: Path):
    """The schema validator (cached while the schema files are unchanged)."""
    stamp = tuple(sorted((f.name, f.stat().st_mtime_ns) for f in schema_dir.glob("*.yaml")))
    return _make_validator(str(schema_dir.resolve()), stamp)


@functools.lru_cache(maxsize=8)
def _make_validator(schema_dir: str, _stamp):
    import jsonschema
    from referencing import Registry, Resource

    @functools.cache                     # the registry does not keep what it retrieved between validations
    def retrieve(uri: str):
        path = Path(uri.removeprefix("file://"))
        from referencing.jsonschema import DRAFT202012

        contents = load_yaml(path)
        contents.pop("$schema", None)  # so that the default-filling validator class applies inside $refs too
        return Resource.from_contents(contents, default_specification=DRAFT202012)

    root = Path(schema_dir) / "config.schema.yaml"
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


_USER_INIT_WHERE = ("user init schemes 'module.path:function' are accepted where a section takes any init scheme "
                    "(xiao2018 and extras); this one compares the paper's own weight distributions")


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
        msg = f"config key '{key}': {err.instance!r} is not one of {', '.join(map(str, err.validator_value))}"
        if isinstance(err.instance, str) and ":" in err.instance and "init" in key:
            msg += f" ({_USER_INIT_WHERE})"
        return msg
    if err.validator == "type" and isinstance(err.instance, str):
        want = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        if {"number", "integer"} & set(want):
            return (f"config key '{key}': {err.instance!r} is not a number (write it unquoted, e.g. 0.001, 1e-3 or "
                    "1.0e-3)")
    return f"config key '{key}': {err.message}"


# ------------------------------------------------------------------------------------------------ text -> typed
_INT_12 = re.compile(r"^[-+]?[0-9]+$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULL = ("null", "Null", "NULL", "~", "")


def _typed(text: str, want: list[str]):
    """The value YAML 1.2 would give ``text`` if it is of one of the JSON types ``want``; else a sentinel."""
    s = text.strip()
    if "integer" in want and _INT_12.match(s):
        return int(s)
    if "number" in want:
        if _INT_12.match(s):
            return int(s)
        if _FLOAT_12.match(s):
            return yaml.load(s, Loader=_Loader)
    if "integer" in want and _FLOAT_12.match(s):
        v = yaml.load(s, Loader=_Loader)
        if math.isfinite(v) and v == int(v):
            return int(v)
    if "boolean" in want and s in _BOOL:
        return _BOOL[s]
    if "null" in want and s in _NULL:
        return None
    return _NO


_NO = object()


def _type_errors(err):
    """Type errors among ``err`` and the errors nested in its context (anyOf / oneOf alternatives)."""
    if err.validator == "type":
        yield err
    for sub in err.context or ():
        yield from _type_errors(sub)


def _set(cfg, path, value) -> None:
    *parents, last = path
    node = cfg
    for p in parents:
        node = node[p]
    node[last] = value


def _coerce_text(cfg: dict, validator) -> list:
    """Turn text into numbers / booleans / null where the schema asks for them (see module docstring); return the
    schema errors that remain."""
    for _ in range(100):
        errors = list(validator.iter_errors(cfg))
        fixes = {}
        for err in errors:
            for e in _type_errors(err):
                if not isinstance(e.instance, str) or not e.absolute_path:
                    continue
                want = e.validator_value if isinstance(e.validator_value, list) else [e.validator_value]
                v = _typed(e.instance, want)
                if v is not _NO:
                    fixes.setdefault(tuple(e.absolute_path), v)
        if not fixes:
            return errors
        for path, v in fixes.items():
            _set(cfg, list(path), v)
    return list(validator.iter_errors(cfg))


def _non_finite(cfg, path=()):
    if isinstance(cfg, dict):
        for k, v in cfg.items():
            yield from _non_finite(v, path + (k,))
    elif isinstance(cfg, (list, tuple)):
        for i, v in enumerate(cfg):
            yield from _non_finite(v, path + (i,))
    elif isinstance(cfg, float) and not math.isfinite(cfg):
        yield (f"config key '{_key(path)}': {cfg!r} is not a finite number (NaN and infinities are not accepted "
               "anywhere in the configuration)")


# ------------------------------------------------------------------------------------------------ cross-key rules
_MISSING = object()


def _get(cfg, dotted: str):
    node = cfg
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _expand(cfg, dotted: str):
    """(concrete dotted key, value) for a key pattern; ``*`` matches every key of a mapping / item of a list."""
    out = [("", cfg)]
    for part in dotted.split("."):
        nxt = []
        for prefix, node in out:
            if part == "*":
                items = node.items() if isinstance(node, dict) else (
                    enumerate(node) if isinstance(node, list) else ())
                for k, v in items:
                    nxt.append((f"{prefix}[{k}]" if isinstance(k, int) else
                                (f"{prefix}.{k}" if prefix else str(k)), v))
            elif isinstance(node, dict) and part in node:
                nxt.append((f"{prefix}.{part}" if prefix else part, node[part]))
        out = nxt
    return out


def _enabled(cfg, key: str) -> bool:
    section = cfg.get(key.split(".")[0])
    return not (isinstance(section, dict) and section.get("enabled") is False)


@dataclass(frozen=True)
class OneOf:
    """The value at ``key`` (a dotted key; ``*`` = every entry; a list value = each of its items) must be one of
    the values listed at ``among``. ``why`` says what goes wrong otherwise (shown in the error)."""

    key: str
    among: str
    why: str = ""

    def violations(self, cfg) -> list[str]:
        choices = _get(cfg, self.among)
        if choices is _MISSING or not isinstance(choices, list) or not _enabled(cfg, self.key):
            return []
        out = []
        for key, value in _expand(cfg, self.key):
            for i, v in enumerate(value if isinstance(value, list) else [value]):
                if v not in choices:
                    k = f"{key}[{i}]" if isinstance(value, list) else key
                    out.append(f"config key '{k}': {v!r} is not one of the values of '{self.among}' "
                               f"({', '.join(map(str, choices))})" + (f": {self.why}" if self.why else ""))
        return out


_OPS = {"<": (lambda a, b: a < b, "less than"), "<=": (lambda a, b: a <= b, "at most"),
        ">": (lambda a, b: a > b, "greater than"), ">=": (lambda a, b: a >= b, "at least")}


@dataclass(frozen=True)
class Compare:
    """``value(key) <op> reduce(value(other))``; ``reduce`` is ``max``, ``min`` or ``None`` (a scalar)."""

    key: str
    op: str
    other: str
    reduce: str | None = None
    why: str = ""

    def violations(self, cfg) -> list[str]:
        ref = _get(cfg, self.other)
        if ref is _MISSING or not _enabled(cfg, self.key):
            return []
        if self.reduce:
            if not isinstance(ref, list) or not ref:
                return []
            ref = {"max": max, "min": min}[self.reduce](ref)
        test, words = _OPS[self.op]
        out = []
        for key, value in _expand(cfg, self.key):
            if isinstance(value, (int, float)) and isinstance(ref, (int, float)) and not test(value, ref):
                of = f"the {self.reduce}imum of '{self.other}'" if self.reduce else f"'{self.other}'"
                out.append(f"config key '{key}': {value!r} must be {words} {of} ({ref!r})"
                           + (f": {self.why}" if self.why else ""))
        return out


#: Cross-key constraints checked by ``validate_config`` (add yours with ``register_constraint``). Each is a value the
#: code would otherwise snap to the nearest configured one, or a range whose ends are swapped.
CONSTRAINTS: list = [
    Compare("pennington2017.checks.l1_max_depth", ">=", "pennington2017.spectra.depths", "min",
            "the spectrum checks are made at depths <= l1_max_depth; with none of them, no check row is written"),
    Compare("pennington2017.phase_diagram.sigma_w2_max", ">", "pennington2017.phase_diagram.sigma_w2_min"),
    Compare("pennington2017.phase_diagram.sigma_b2_max", ">", "pennington2017.phase_diagram.sigma_b2_min"),
    Compare("sussillo2014.optimal_gain.theory_widths.max", ">", "sussillo2014.optimal_gain.theory_widths.min"),
    Compare("sussillo2014.optimal_gain.stat_gains.max", ">", "sussillo2014.optimal_gain.stat_gains.min"),
    OneOf("sussillo2014.walks.show_width", "sussillo2014.walks.widths",
          "the sample walks, the mean panel and the unbiasedness rows are drawn at this width"),
    Compare("saxe2014.depth_decoupled.lrs.max", ">=", "saxe2014.depth_decoupled.lrs.min"),
    Compare("saxe2014.pretraining.lrs.max", ">=", "saxe2014.pretraining.lrs.min"),
    Compare("extras.heatmap.sigma_w2.max", ">", "extras.heatmap.sigma_w2.min"),
]


def register_constraint(constraint) -> None:
    """Add a cross-key constraint: ``OneOf(key, among, why)``, ``Compare(key, op, other, reduce, why)``, or any
    object with ``violations(cfg) -> list[str]`` (messages in the style "config key 'a.b': ...")."""
    CONSTRAINTS.append(constraint)


def check_constraints(cfg: dict, constraints=None) -> list[str]:
    """The messages of every violated cross-key constraint (empty when all hold)."""
    return [m for c in (CONSTRAINTS if constraints is None else constraints) for m in c.violations(cfg)]


# ------------------------------------------------------------------------------------------------ validate
def validate_config(cfg: dict, schema_dir: str | Path | None = None) -> dict:
    """Validate ``cfg`` in place (text converted to numbers where the schema asks for them, defaults filled in) and
    return it; raise ``ConfigError`` naming the key(s)."""
    import jsonschema

    validator = _validator(Path(schema_dir) if schema_dir else SCHEMA_DIR)
    errors = _coerce_text(cfg, validator)
    lines = list(_non_finite(cfg))
    errors = sorted(errors, key=lambda e: (len(list(e.absolute_path)), str(e.absolute_path)))
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        lines += [_explain(best)] + [_explain(e) for e in errors if e is not best][:5]
    if not lines:
        lines = check_constraints(cfg)
    if lines:
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
    cfg = load_config_file(path)
    if overrides:
        cfg = deep_update(cfg, overrides)
    return validate_config(cfg)


def deep_update(base: dict, new: dict) -> dict:
    out = dict(base)
    for k, v in new.items():
        out[k] = deep_update(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out
