"""A short Markdown summary and a verdict table of a run, for Prefect artifacts.

Pure functions of ``results``; :mod:`flows.artifacts` publishes what they return.
Results hold no names, e-mail addresses or phone numbers, and nothing here adds raw
text from the inputs: only claim wording (from claims.toml), verdict reasons, counts
and step labels, each escaped for Markdown by
:func:`pipeline.report.text.markdown_text`.
"""

from __future__ import annotations

from typing import Any

from pipeline.report.context import flow_steps, headline, is_demo, verdict_rows
from pipeline.report.fmt import integer
from pipeline.report.text import markdown_text

VERDICT_COLUMNS = (
    "claim_id",
    "claim",
    "outcome",
    "window",
    "n",
    "estimate",
    "p_adjusted",
    "verdict",
    "reason",
)


def verdict_records(results: dict[str, Any]) -> list[dict[str, str]]:
    """One row per claim (plain text, one line per cell), for a table artifact.

    Returns
    -------
    list of dict
        Keys :data:`VERDICT_COLUMNS`; ``estimate`` is the change (or share) with its
        confidence interval, ``verdict`` the rule's name (``supported``, ...).
    """
    return [
        {
            "claim_id": row["id"],
            "claim": row["claim"],
            "outcome": row["outcome"],
            "window": row["window"],
            "n": row["n"],
            "estimate": row["estimate"],
            "p_adjusted": row["p_adjusted"],
            "verdict": row["verdict"],
            "reason": row["reason"],
        }
        for row in verdict_rows(results)
    ]


def _table(heads: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    lines += ["| " + " | ".join(markdown_text(cell) for cell in row) + " |" for row in rows]
    return lines


def summary_markdown(results: dict[str, Any]) -> str:
    """The run in a page of Markdown: verdicts, participant flow and key numbers.

    Parameters
    ----------
    results : dict
        results.json content.

    Returns
    -------
    str
        Markdown; every value taken from ``results`` is escaped.
    """
    run = results.get("run") or {}
    study = results.get("study") or {}
    quality = results.get("data_quality") or {}
    lines = [f"# {markdown_text(study.get('name') or 'Outcome study')}", ""]
    if is_demo(results):
        lines += [
            "> **DEMO DATA**: synthetic clients, pseudonymised with the public demo key. "
            "Nothing here describes real clients or the therapy.",
            "",
        ]
    lines += [
        f"Run {markdown_text(run.get('id'))}, finished {markdown_text(run.get('finished_at'))}; "
        f"{integer(results.get('clients_analysed'))} clients analysed.",
        "",
        markdown_text(headline(results)),
        "",
        "## Verdicts",
        "",
        *_table(
            ["Claim", "Outcome", "Window", "n", "Estimate (CI)", "Adjusted p", "Verdict"],
            [
                [
                    r["claim"],
                    r["outcome"],
                    r["window"],
                    r["n"],
                    r["estimate"],
                    r["p_adjusted"],
                    r["verdict_label"],
                ]
                for r in verdict_rows(results)
            ],
        ),
        "",
        "## Participant flow",
        "",
        *_table(
            ["Step", "Clients", "Excluded"],
            [
                [
                    s["label"],
                    s["n"],
                    "; ".join(f"{reason}: {count}" for reason, count in s["excluded"]),
                ]
                for s in flow_steps(results)
            ],
        ),
        "",
        "## Data",
        "",
        *_table(
            ["Rows read", "Accepted", "Quarantined", "Duplicates removed"],
            [
                [
                    integer(quality.get(k))
                    for k in (
                        "rows_read",
                        "rows_accepted",
                        "rows_quarantined",
                        "duplicates_removed",
                    )
                ]
            ],
        ),
        "",
        "An uncontrolled before-and-after study: placebo response, natural course and regression "
        "to the mean are not separated from any effect of the therapy. See the full report.",
    ]
    return "\n".join(lines) + "\n"
