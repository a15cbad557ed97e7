"""The HTML report: one self-contained page rendered from a Jinja2 template.

Safety: the environment autoescapes every value (``autoescape=True`` for all templates,
whatever their file extension), and the only markup not escaped is the report's own
stylesheet. Figures are ``data:`` URIs (base64 text, nothing to escape). The page
carries a Content-Security-Policy that allows no scripts, no network and no fonts:
images only from ``data:`` and the one stylesheet identified by its hash. So even text
that escaped escaping could not run, and opening the file never contacts a server.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "report.html.j2"
STYLESHEET = "report.css"


@cache
def environment() -> Environment:
    """The Jinja2 environment of the report (autoescape on, undefined names are errors)."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def stylesheet() -> str:
    """The report's CSS (a static file of this package)."""
    return (TEMPLATES / STYLESHEET).read_text(encoding="utf-8")


def content_security_policy(css: str) -> str:
    """A CSP that allows only ``data:`` images and the given inline stylesheet."""
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return (
        "default-src 'none'; img-src data:; "
        f"style-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )


def render_html(context: dict[str, Any]) -> str:
    """The report page for a context from :func:`pipeline.report.context.report_context`.

    Parameters
    ----------
    context : dict
        Template values (plain text, escaped here).

    Returns
    -------
    str
        A complete HTML document with no external references.
    """
    css = stylesheet()
    return (
        environment()
        .get_template(TEMPLATE)
        .render(**context, css=Markup(css), csp=content_security_policy(css))
    )
