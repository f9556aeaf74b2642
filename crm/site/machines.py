"""Files for machines rather than people: sitemap, robots.txt, the Atom feed and favicon.ico.

Built with an XML library, not templates, so a title with "&" or "<" stays well-formed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from xml.etree import ElementTree as ET

from flask import Response, current_app, send_from_directory, url_for

from crm.clinic.branches import active_branches
from crm.platform.i18n import DEFAULT_LANGUAGE, LANGUAGES, path_in_language
from crm.site import bp
from crm.site.blog import all_articles, find_article, languages_of
from crm.site.seo import absolute, clinic_name

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
ATOM_NS = "http://www.w3.org/2005/Atom"
XHTML_NS = "http://www.w3.org/1999/xhtml"
# Crawlers and feed readers poll: an hour is fresh enough and spares the app.
MACHINE_CACHE = "public, max-age=3600"
ICON_CACHE = "public, max-age=604800"


@bp.get("/sitemap.xml")
def sitemap() -> Response:
    """Every page in every language it is written in, each naming its other versions.

    An article not yet translated is listed once, in English: its /kn/ page shows the English
    text and names the English page as canonical.
    """
    articles = all_articles()
    newest = max((article.modified for article in articles), default=None)
    every_language = {code: newest for code in LANGUAGES}
    undated: dict[str, date | None] = dict.fromkeys(LANGUAGES)
    entries: list[tuple[str, dict[str, date | None]]] = [
        (url_for("site.home"), every_language),
        (url_for("site.blog_index"), every_language),
        *((url_for("site.article", slug=a.slug), _versions(a.slug)) for a in articles),
        *((url_for("site.branch", slug=b.slug), undated) for b in active_branches()),
        (url_for("site.contact"), undated),
        (url_for("site.privacy"), undated),
    ]
    root = ET.Element("urlset", {"xmlns": SITEMAP_NS, "xmlns:xhtml": XHTML_NS})
    for path, versions in entries:
        addresses = {code: absolute(path_in_language(code, path)) for code in versions}
        for code, modified in versions.items():
            url = ET.SubElement(root, "url")
            ET.SubElement(url, "loc").text = addresses[code]
            if modified is not None:
                ET.SubElement(url, "lastmod").text = modified.isoformat()
            for other, href in [*addresses.items(), ("x-default", addresses[DEFAULT_LANGUAGE])]:
                hreflang = LANGUAGES[other].html_lang if other in LANGUAGES else other
                ET.SubElement(url, "xhtml:link", rel="alternate", hreflang=hreflang, href=href)
    return _xml(root, "application/xml")


def _versions(slug: str) -> dict[str, date | None]:
    """An article's languages and when each version last changed."""
    versions: dict[str, date | None] = {}
    for code in languages_of(slug):
        article = find_article(slug, code)
        versions[code] = article.modified if article is not None else None
    return versions


@bp.get("/robots.txt")
def robots() -> Response:
    lines = [
        "User-agent: *",
        "Disallow: /staff/",
        "Disallow: /leads",
        f"Sitemap: {absolute(url_for('site.sitemap'))}",
        "",
    ]
    return Response(
        "\n".join(lines), mimetype="text/plain", headers={"Cache-Control": MACHINE_CACHE}
    )


@bp.get("/blog/feed.xml")
def feed() -> Response:
    articles = all_articles()
    ET.register_namespace("", ATOM_NS)

    def tag(name: str) -> str:
        return f"{{{ATOM_NS}}}{name}"

    root = ET.Element(tag("feed"), {"xml:lang": "en-IN"})
    ET.SubElement(root, tag("id")).text = absolute(url_for("site.feed"))
    ET.SubElement(root, tag("title")).text = f"{clinic_name()}: articles"
    ET.SubElement(
        root, tag("subtitle")
    ).text = "Practical notes from our physiotherapists on pain, recovery and moving well."
    newest = max((article.modified for article in articles), default=date(2026, 1, 1))
    ET.SubElement(root, tag("updated")).text = _stamp(newest)
    ET.SubElement(root, tag("link"), rel="self", href=absolute(url_for("site.feed")))
    ET.SubElement(root, tag("link"), rel="alternate", href=absolute(url_for("site.blog_index")))
    author = ET.SubElement(root, tag("author"))
    ET.SubElement(author, tag("name")).text = clinic_name()
    ET.SubElement(root, tag("icon")).text = absolute(url_for("site.favicon"))
    for article in articles:
        url = absolute(url_for("site.article", slug=article.slug))
        entry = ET.SubElement(root, tag("entry"))
        ET.SubElement(entry, tag("id")).text = url
        ET.SubElement(entry, tag("title")).text = article.title
        ET.SubElement(entry, tag("link"), rel="alternate", type="text/html", href=url)
        ET.SubElement(entry, tag("published")).text = _stamp(article.date)
        ET.SubElement(entry, tag("updated")).text = _stamp(article.modified)
        entry_author = ET.SubElement(entry, tag("author"))
        ET.SubElement(entry_author, tag("name")).text = article.author
        ET.SubElement(entry, tag("summary")).text = article.summary
    return _xml(root, "application/atom+xml")


@bp.get("/favicon.ico")
def favicon() -> Response:
    response = send_from_directory(
        current_app.static_folder or "", "favicon.ico", mimetype="image/vnd.microsoft.icon"
    )
    response.headers["Cache-Control"] = ICON_CACHE
    return response


def _xml(root: ET.Element, mimetype: str) -> Response:
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return Response(body, mimetype=mimetype, headers={"Cache-Control": MACHINE_CACHE})


def _stamp(day: date) -> str:
    """Atom wants a full timestamp; an article's date is a day, taken as midnight UTC."""
    return datetime.combine(day, time(), tzinfo=UTC).isoformat()
