"""The PDF report: the HTML report printed by WeasyPrint, with no network access.

The fetcher WeasyPrint uses for images and stylesheets accepts ``data:`` URIs only:
``http``, ``https``, ``file`` and every other scheme are refused, so rendering never
contacts a server or reads a local file named in the page. Fonts come from the system
(fontconfig), never from a URL.
"""

from __future__ import annotations

from weasyprint import HTML
from weasyprint.urls import URLFetcher

ALLOWED_SCHEMES = frozenset({"data"})


def offline_fetcher() -> URLFetcher:
    """A WeasyPrint URL fetcher that refuses every scheme but ``data:``."""
    return URLFetcher(allowed_protocols=ALLOWED_SCHEMES, timeout=1, allow_redirects=False)


def render_pdf(html: str) -> bytes:
    """Print an HTML document to PDF bytes (A4; page layout from the print stylesheet).

    Parameters
    ----------
    html : str
        A self-contained document (images as ``data:`` URIs).

    Returns
    -------
    bytes
        The PDF; text is real text (fonts embedded with Unicode maps), not images.
    """
    return HTML(string=html, url_fetcher=offline_fetcher(), media_type="print").write_pdf()
