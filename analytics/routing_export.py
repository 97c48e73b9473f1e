"""`routing_pools` as router configuration: OpenRouter `provider` preferences and a LiteLLM
router `model_list`.

OpenRouter (https://openrouter.ai/docs/features/provider-routing): the request's `provider`
object takes `order` (provider slugs tried in order), `ignore` (slugs never used) and
`allow_fallbacks`. gatewatch's provider slugs are OpenRouter's (`amazon-bedrock`,
`google-vertex`, `deepinfra`, ...; SPEC §4), so they are written as they are. A degraded
pool's fragment also carries `gatewatch_degraded` (the pool's reason), next to `model` and
`provider`: a note for people, not an OpenRouter request field.

LiteLLM (https://docs.litellm.ai/docs/proxy/configs, https://docs.litellm.ai/docs/providers):
one deployment per included provider under the same `model_name`, `litellm_params.model` =
`<litellm provider prefix>/<the provider's own model name>` and `litellm_params.order` = rank
(lower is tried first). The deployments of a degraded pool carry the reason in
`model_info.metadata`, the free-text field the proxy only reports back (`/model/info`). The
output is JSON, which is valid YAML for a proxy `config.yaml`.
"""

from __future__ import annotations

from typing import Any

ROUTING_EXPORT_QUERY = """
SELECT model, provider, provider_model, included, rank, pool_reason
FROM routing_pools
WHERE provider <> 'unknown' AND model <> 'unknown'
ORDER BY model, rank NULLS LAST, provider
"""

FORMATS = ("openrouter", "litellm")

# gatewatch provider slug → LiteLLM provider prefix, where they differ (LiteLLM providers
# docs); any other slug is used with '-' written as '_'.
LITELLM_PREFIXES = {
    "amazon-bedrock": "bedrock",
    "google-vertex": "vertex_ai",
    "google-ai-studio": "gemini",
    "together": "together_ai",
    "fireworks": "fireworks_ai",
    "azure": "azure",
}

Row = dict[str, Any]


class ExportError(ValueError):
    """Nothing to export (empty table, unknown model)."""


def _by_model(rows: list[Row], model: str | None) -> dict[str, list[Row]]:
    if not rows:
        raise ExportError("routing_pools is empty: run `gatewatch jobs run` first")
    pools: dict[str, list[Row]] = {}
    for row in rows:
        pools.setdefault(row["model"], []).append(row)
    if model is None:
        return pools
    if model not in pools:
        raise ExportError(f"no routing pool for model {model!r} (known: {', '.join(pools)})")
    return {model: pools[model]}


def _ranked(pool: list[Row]) -> list[Row]:
    return sorted((r for r in pool if r["included"]), key=lambda r: r["rank"])


def degraded_reason(pool: list[Row]) -> str | None:
    """The pool's `pool_reason` (the same on each of its rows); None when it is healthy."""
    return pool[0].get("pool_reason")


def openrouter_provider(pool: list[Row]) -> dict[str, Any]:
    return {
        "order": [r["provider"] for r in _ranked(pool)],
        "ignore": sorted(r["provider"] for r in pool if not r["included"]),
        "allow_fallbacks": True,
    }


def litellm_model(provider: str, provider_model: str | None, model: str) -> str:
    prefix = LITELLM_PREFIXES.get(provider, provider.replace("-", "_"))
    return f"{prefix}/{provider_model or model.split('/', 1)[-1]}"


def _openrouter_fragment(name: str, pool: list[Row]) -> dict[str, Any]:
    fragment: dict[str, Any] = {"model": name, "provider": openrouter_provider(pool)}
    reason = degraded_reason(pool)
    if reason is not None:
        fragment["gatewatch_degraded"] = reason
    return fragment


def _litellm_deployment(name: str, row: Row, reason: str | None) -> dict[str, Any]:
    deployment: dict[str, Any] = {
        "model_name": name,
        "litellm_params": {
            "model": litellm_model(row["provider"], row["provider_model"], name),
            "order": row["rank"],
        },
    }
    if reason is not None:
        deployment["model_info"] = {"metadata": f"gatewatch: degraded pool: {reason}"}
    return deployment


def export_openrouter(rows: list[Row], model: str | None = None) -> Any:
    """Request fragments `{"model", "provider"}`: one object for `model`, else a list."""
    fragments = [_openrouter_fragment(name, pool) for name, pool in _by_model(rows, model).items()]
    return fragments[0] if model is not None else fragments


def export_litellm(rows: list[Row], model: str | None = None) -> dict[str, Any]:
    return {
        "model_list": [
            _litellm_deployment(name, r, degraded_reason(pool))
            for name, pool in _by_model(rows, model).items()
            for r in _ranked(pool)
        ]
    }


def export(rows: list[Row], output_format: str, model: str | None = None) -> Any:
    if output_format == "openrouter":
        return export_openrouter(rows, model)
    if output_format == "litellm":
        return export_litellm(rows, model)
    raise ExportError(f"unknown format {output_format!r}; expected {', '.join(FORMATS)}")
