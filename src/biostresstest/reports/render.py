"""Reports as PDF: the context from the store, the packaged templates, WeasyPrint.

Templates come only from the package (never from a string built from data), with autoescape on,
so a name such as ``<img src="file:///etc/passwd">`` or ``{{ 7*7 }}`` is printed as text.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from biostresstest.core.settings import Settings
from biostresstest.model.store import Store
from biostresstest.reports.context import address_context, area_context
from biostresstest.reports.pdf import Asset, RenderedPdf, asset_url, html_to_pdf
from biostresstest.reports.spec import load_spec


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja2 environment of the report templates (autoescape on, strict undefined)."""
    return Environment(
        loader=PackageLoader("biostresstest.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(template: str, context: dict[str, Any]) -> str:
    """The HTML of ``template`` with ``context`` and the text and asset helpers."""
    spec, lang = load_spec(), context["lang"]

    def text(text_id: str, /, **values: Any) -> str:
        return spec.text(text_id, lang, **values)

    return environment().get_template(template).render(**context, t=text, asset=asset_url)


def _pdf(template: str, context: dict[str, Any], assets: dict[str, Asset]) -> RenderedPdf:
    return html_to_pdf(render_html(template, context), assets)


def area_report(
    store: Store, area: str, lang: str = "nl", settings: Settings | None = None
) -> RenderedPdf:
    """The PDF report of a gemeente (GM…), wijk (WK…), buurt (BU…) or study area.

    With ``settings`` the report compares the saved scenarios of the area (in their data folder).
    """
    context, assets = area_context(store, area, lang, settings)
    return _pdf("report.html.j2", context, assets)


def address_report(store: Store, x: float, y: float, lang: str = "nl") -> RenderedPdf:
    """The one-page PDF for the place at RD New (x, y)."""
    context, assets = address_context(store, x, y, lang)
    return _pdf("address.html.j2", context, assets)
