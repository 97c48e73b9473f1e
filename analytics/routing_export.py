"""`routing_pools` as router configuration: OpenRouter `provider` preferences and a LiteLLM
router `model_list`.

OpenRouter (https://openrouter.ai/docs/features/provider-routing): the request's `provider`
object takes `order` (provider slugs tried in order), `ignore` (slugs never used) and
`allow_fallbacks`. gatewatch's provider slugs are OpenRouter's (`amazon-bedrock`,
`google-vertex`, `deepinfra`, ...; SPEC §4), so they are written as they are.

LiteLLM (https://docs.litellm.ai/docs/proxy/configs, https://docs.litellm.ai/docs/providers):
one deployment per included provider under the same `model_name`, `litellm_params.model` =
`<litellm provider prefix>/<the provider's own model name>` and `litellm_params.order` = rank
(lower is tried first). The output is JSON, which is valid YAML for a proxy `config.yaml`.
"""

from __future__ import annotations

from typing import Any

ROUTING_EXPORT_QUERY = """
SELECT model, provider, provider_model, included, rank
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


def openrouter_provider(pool: list[Row]) -> dict[str, Any]:
    return {
        "order": [r["provider"] for r in _ranked(pool)],
        "ignore": sorted(r["provider"] for r in pool if not r["included"]),
        "allow_fallbacks": True,
    }


def litellm_model(provider: str, provider_model: str | None, model: str) -> str:
    prefix = LITELLM_PREFIXES.get(provider, provider.replace("-", "_"))
    return f"{prefix}/{provider_model or model.split('/', 1)[-1]}"


def export_openrouter(rows: list[Row], model: str | None = None) -> Any:
    """Request fragments `{"model", "provider"}`: one object for `model`, else a list."""
    fragments = [
        {"model": name, "provider": openrouter_provider(pool)}
        for name, pool in _by_model(rows, model).items()
    ]
    return fragments[0] if model is not None else fragments


def export_litellm(rows: list[Row], model: str | None = None) -> dict[str, Any]:
    return {
        "model_list": [
            {
                "model_name": name,
                "litellm_params": {
                    "model": litellm_model(r["provider"], r["provider_model"], name),
                    "order": r["rank"],
                },
            }
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
