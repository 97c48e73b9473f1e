"""The user's config file (TOML): provider and model aliases, app mappings, model tiers and
the thresholds of the batch jobs.

    [providers]              # spelling as received → provider slug
    "My Azure Proxy" = "azure"
    [models]                 # spelling as received → canonical model id `vendor/name`
    "gpt4o-prod" = "openai/gpt-4o"
    [apps]                   # app (or service.name) as received → app name stored
    "billing-svc-prod" = "billing"
    [tiers]                  # glob pattern on the canonical model id → tier, first match wins
    "openai/gpt-5*-mini" = "small"
    "acme/*" = "frontier"
    [analytics]              # any numeric `analytics.settings.AnalyticsSettings` field by name
    sla_target = 0.995
    [[prices]]               # USD per million tokens, for the estimated cost (`price_config`)
    model = "openai/gpt-4o"
    input = 2.50
    output = 10.00

Provider and model keys are matched case-insensitively, like the built-in tables they extend
(and override); app keys exactly. The alias sections are read by the process that maps traffic
(`serve`, `demo`, and `ingest` when no `serve` owns the database); `[tiers]`, `[analytics]` and
`[[prices]]` by the process that runs the batch jobs (`serve` and `demo`, and `jobs run` when
no `serve` owns the database). Tier patterns (case-insensitive `*`, `?`, `[...]` globs) are
tried in file order before the built-in rules of `analytics.jobs.model_mix` when the jobs build
`model_tiers`.
`[auth]`, the dashboard's sign-in, is read by `serve` (see `dashboard.auth.settings`).
`[retention]` (`warehouse.retention_settings`: `requests_days = 90`, ...) by the process that
deletes old rows (`serve`, and `retention run` when no `serve` owns the database).
`[[alerts]]` (`gatewatch.alerts.rules`) by `serve`, which evaluates them, and `alerts test`.
`[lake] path` (a folder or `s3://bucket/prefix`) puts `serve`, `sql` and `lake jobs|compact` in
lake mode when neither `--lake` nor `GATEWATCH_LAKE` names a lake.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from analytics.prices import Price
from analytics.settings import AnalyticsSettings, settings_from_mapping
from dashboard.auth.settings import AuthConfigError, AuthSettings, parse_auth
from gatewatch import config
from gatewatch.alerts.rules import AlertRule, RuleError, parse_rules
from gatewatch.errors import GatewatchError
from gatewatch.price_config import parse_prices
from ingest import normalize
from warehouse.retention_settings import RetentionSettings, retention_from_mapping

ALIAS_SECTIONS = ("providers", "models", "apps")
SECTIONS = (
    *ALIAS_SECTIONS,
    "tiers",
    "analytics",
    "prices",
    "auth",
    "retention",
    "alerts",
    "lake",
)
_PROVIDER_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*/[a-z0-9][a-z0-9._:-]*$")
_TIER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True, slots=True)
class UserConfig:
    path: Path | None  # None: no file, built-in tables only
    providers: dict[str, str] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)
    apps: dict[str, str] = field(default_factory=dict)
    tiers: tuple[tuple[str, str], ...] = ()  # (glob pattern, tier), in file order
    analytics: AnalyticsSettings = field(default_factory=AnalyticsSettings)  # tiers included
    prices: tuple[Price, ...] = ()  # [[prices]], in file order (also in `analytics`)
    auth: AuthSettings = field(default_factory=AuthSettings)  # [auth]: dashboard sign-in
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    alerts: tuple[AlertRule, ...] = ()  # [[alerts]], in file order
    lake_path: str | None = None  # [lake] path: lake mode's folder or s3:// URL


def config_path(explicit: str | None) -> tuple[Path, bool]:
    """The file to read and whether the user named it (a named file must exist)."""
    if explicit:
        return Path(explicit), True
    from_env = config.env_or(config.GATEWATCH_CONFIG, "")
    if from_env:
        return Path(from_env), True
    return Path(config.DEFAULT_CONFIG), False


def _section(document: dict, name: str, path: Path) -> dict[str, str]:
    table = document.get(name, {})
    if not isinstance(table, dict):
        raise GatewatchError(f'{path}: [{name}] must be a table of "as received" = "mapped"')
    for key, value in table.items():
        if not isinstance(value, str) or not value.strip():
            raise GatewatchError(f"{path}: [{name}] {key!r}: the value must be a non-empty string")
        if name == "providers" and not _PROVIDER_SLUG.match(value):
            raise GatewatchError(
                f"{path}: [providers] {key!r}: {value!r} is not a provider slug "
                "(lower-case letters, digits, '-', '.', '_')"
            )
        if name == "models" and not _MODEL_ID.match(value):
            raise GatewatchError(
                f"{path}: [models] {key!r}: {value!r} is not a model id like 'openai/gpt-4o' "
                "(lower-case vendor/name)"
            )
    return dict(table)


def _analytics(document: dict, path: Path) -> AnalyticsSettings:
    table = document.get("analytics", {})
    if not isinstance(table, dict):
        raise GatewatchError(f"{path}: [analytics] must be a table of setting = value")
    try:
        return settings_from_mapping(table)
    except ValueError as e:
        raise GatewatchError(f"{path}: [analytics] {e}") from e


def load_user_config(explicit: str | None = None) -> UserConfig:
    path, named = config_path(explicit)
    if not path.exists():
        if named:
            raise GatewatchError(f"config file {path} does not exist")
        return UserConfig(path=None)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise GatewatchError(f"{path}: not valid TOML: {e}") from e
    unknown = sorted(set(document) - set(SECTIONS))
    if unknown:
        raise GatewatchError(
            f"{path}: unknown section(s) {', '.join(unknown)}; expected {', '.join(SECTIONS)}"
        )
    tiers = _tiers(document, path)
    prices = parse_prices(document, path)
    return UserConfig(
        path,
        *(_section(document, name, path) for name in ALIAS_SECTIONS),
        tiers=tiers,
        analytics=dataclasses.replace(_analytics(document, path), tier_rules=tiers, prices=prices),
        prices=prices,
        auth=_auth(document, path),
        retention=_retention(document, path, _analytics(document, path).routing_window_days),
        alerts=_alerts(document, path),
        lake_path=_lake_path(document, path),
    )


def _lake_path(document: dict, path: Path) -> str | None:
    table = document.get("lake", {})
    if not isinstance(table, dict):
        raise GatewatchError(f"{path}: [lake] must be a table (path = ...)")
    unknown = sorted(set(table) - {"path"})
    if unknown:
        listed = ", ".join(unknown)
        raise GatewatchError(f"{path}: [lake] unknown setting(s) {listed}; expected path")
    value = table.get("path")
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise GatewatchError(f"{path}: lake.path must be a folder or an s3:// URL, got {value!r}")
    return value


def _retention(document: dict, path: Path, routing_window_days: int) -> RetentionSettings:
    table = document.get("retention", {})
    if not isinstance(table, dict):
        raise GatewatchError(f"{path}: [retention] must be a table of setting = days")
    try:
        return retention_from_mapping(table, routing_window_days=routing_window_days)
    except ValueError as e:
        raise GatewatchError(f"{path}: [retention] {e}") from e


def _alerts(document: dict, path: Path) -> tuple[AlertRule, ...]:
    try:
        return parse_rules(document.get("alerts", []))
    except RuleError as e:
        raise GatewatchError(f"{path}: {e}") from e


def _auth(document: dict, path: Path) -> AuthSettings:
    if "auth" not in document:
        return AuthSettings()
    try:
        return parse_auth(document["auth"])
    except AuthConfigError as e:
        raise GatewatchError(f"{path}: {e}") from e


def _tiers(document: dict, path: Path) -> tuple[tuple[str, str], ...]:
    table = document.get("tiers", {})
    if not isinstance(table, dict):
        raise GatewatchError(f'{path}: [tiers] must be a table of "model pattern" = "tier"')
    for pattern, tier in table.items():
        if not pattern.strip():
            raise GatewatchError(f"{path}: [tiers]: a model pattern must not be empty")
        if not isinstance(tier, str) or not _TIER_NAME.match(tier):
            raise GatewatchError(
                f"{path}: [tiers] {pattern!r}: {tier!r} is not a tier name "
                "(lower-case letters, digits, '-', '_'; e.g. 'frontier', 'small')"
            )
    return tuple(table.items())


def apply_user_config(user: UserConfig) -> None:
    """Make the mappers use the user's tables (in this process)."""
    normalize.register_aliases(providers=user.providers, models=user.models, apps=user.apps)


def builtin_mappings() -> list[tuple[str, str, str]]:
    """(section, as received, mapped to) of the built-in alias tables (a user entry for the
    same spelling overrides its row)."""
    from ingest.normalize import BUILTIN_MODEL_ALIASES, BUILTIN_PROVIDER_ALIASES

    return [("providers", k, v) for k, v in sorted(BUILTIN_PROVIDER_ALIASES.items())] + [
        ("models", k, v) for k, v in sorted(BUILTIN_MODEL_ALIASES.items())
    ]


def analytics_values(settings: AnalyticsSettings) -> list[tuple[str, str, bool]]:
    """(name, value, differs from the default) of every numeric batch-job setting."""
    defaults = AnalyticsSettings()
    return [
        (
            f.name,
            str(getattr(settings, f.name)),
            getattr(settings, f.name) != getattr(defaults, f.name),
        )
        for f in dataclasses.fields(AnalyticsSettings)
        if f.name not in ("tier_rules", "prices")  # listed as the [tiers], [[prices]] sections
    ]
