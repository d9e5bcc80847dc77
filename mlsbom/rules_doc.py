"""RULES.md, generated from rules/ (tests fail when the committed file is stale)."""

from __future__ import annotations

from mlsbom.rules import RuleSet


def render_rules_markdown(rules: RuleSet) -> str:
    """Every rule with its severity, fact, description, fix and references."""
    lines = [
        "# mlsbom rules",
        "",
        "Generated from `rules/` by `mlsbom rules doc -o RULES.md`; do not edit by hand.",
        "",
        "| id | severity | title |",
        "|---|---|---|",
    ]
    lines += [f"| [`{r.id}`](#{r.id}) | {r.severity.label} | {r.title} |" for r in rules.rules]
    for r in rules.rules:
        lines += [
            "",
            f"## {r.id}",
            "",
            f"**{r.title}** — severity `{r.severity.label}`, "
            f"fact `{r.fact}`" + (f", {', '.join(r.cwe)}" if r.cwe else ""),
            "",
        ]
        lines += [r.description, "", f"**Fix:** {r.remediation}"]
        if r.conditions:
            lines += ["", "Matches when:"]
            for c in r.conditions:
                values = ", ".join(str(getattr(v, "text", v)) for v in c.values[:12])
                more = f" … (+{len(c.values) - 12})" if len(c.values) > 12 else ""
                lines.append(f"- `{c.field}` {c.op.replace('_', ' ')} {values}{more}")
        if r.references:
            lines += ["", *(f"- <{ref}>" for ref in r.references)]
    return "\n".join(lines) + "\n"
