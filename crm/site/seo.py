"""What search engines and link previews read: title, description, canonical link, Open Graph
tags and JSON-LD. Built from the same data the page shows, never written by hand per page, so
the two cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from babel.lists import format_list
from flask import current_app, url_for

from crm.clinic.branches import opening_spans
from crm.models import WEEKDAYS, Branch
from crm.platform.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    babel_locale,
    current_language,
    path_in_language,
    without_language,
)
from crm.platform.i18n import gettext as _
from crm.site.blog import Article, languages_of

SCHEMA = "https://schema.org"
SHARE_IMAGE = "img/share.png"
SHARE_IMAGE_SIZE = (1200, 630)
LOGO = "img/logo.png"
SCHEMA_DAYS = dict(
    zip(
        WEEKDAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)
POSTCODE = re.compile(r"\b(\d{6})\b")

JsonLd = dict[str, Any]


@dataclass(frozen=True)
class PageMeta:
    title: str
    description: str
    path: str  # the canonical path: no query string, whatever the visitor's URL carried
    og_type: str = "website"
    published: date | None = None
    modified: date | None = None
    structured: list[JsonLd] = field(default_factory=list)
    noindex: bool = False
    # The language the page's content is written in (English for an article not yet
    # translated, shown on a /kn/ page), and the languages the page exists in.
    language: str = field(default_factory=current_language)
    languages: tuple[str, ...] = tuple(LANGUAGES)

    @property
    def canonical(self) -> str:
        """The address of this content: an untranslated article's is its English original's."""
        return self.address_in(self.language)

    def address_in(self, code: str) -> str:
        return absolute(path_in_language(code, without_language(self.path)))

    @property
    def alternates(self) -> list[tuple[str, str]]:
        """(hreflang, address) of every language version, and English as ``x-default``."""
        versions = [(LANGUAGES[code].html_lang, self.address_in(code)) for code in self.languages]
        return [*versions, ("x-default", self.address_in(DEFAULT_LANGUAGE))]

    @property
    def og_locale(self) -> str:
        return LANGUAGES[self.language].html_lang.replace("-", "_")

    @property
    def image(self) -> str:
        return absolute(url_for("static", filename=SHARE_IMAGE))


def absolute(path: str) -> str:
    """A path on this site as the public address CRM_SITE_URL says it is reached at."""
    return current_app.config["SITE_URL"].rstrip("/") + path


def clinic_name() -> str:
    return str(current_app.config["CLINIC_NAME"])


# --- Pages ---------------------------------------------------------------------------------------


def home_page(branches: list[Branch]) -> PageMeta:
    cities = _cities(branches)
    return PageMeta(
        title=_(
            "%(clinic)s: physiotherapy and acupressure in %(cities)s",
            clinic=clinic_name(),
            cities=cities,
        ),
        description=_(
            "Physiotherapists for back, neck and knee pain, sports injuries and recovery after "
            "surgery, at our clinics in %(cities)s or at home. Ask for a call back.",
            cities=cities,
        ),
        path=url_for("site.home"),
        structured=[organisation(branches)],
    )


def blog_index_page() -> PageMeta:
    return PageMeta(
        title=_("Articles on back, neck and knee pain · %(clinic)s", clinic=clinic_name()),
        description=_(
            "Practical notes from our physiotherapists: acupressure for back pain, neck pain "
            "from desk work, knee pain on the stairs, and when to see a professional."
        ),
        path=url_for("site.blog_index"),
        structured=[
            breadcrumbs([(_("Home"), url_for("site.home"))], _("Articles"), "site.blog_index")
        ],
    )


def article_page(article: Article) -> PageMeta:
    path = url_for("site.article", slug=article.slug)
    structured = [
        blog_posting(article),
        breadcrumbs(
            [(_("Home"), url_for("site.home")), (_("Articles"), url_for("site.blog_index"))],
            article.title,
            "site.article",
            slug=article.slug,
        ),
    ]
    if article.faq:
        structured.append(faq_page(article))
    return PageMeta(
        title=f"{article.title} · {clinic_name()}",
        description=article.summary,
        path=path,
        og_type="article",
        published=article.date,
        modified=article.modified,
        structured=structured,
        language=article.language,
        languages=tuple(languages_of(article.slug)),
    )


def branch_page(branch: Branch) -> PageMeta:
    area = branch.address.splitlines()[1].split(",")[0] if "\n" in branch.address else branch.city
    return PageMeta(
        title=_(
            "Physiotherapy clinic in %(area)s, %(city)s · %(clinic)s",
            area=area,
            city=branch.city,
            clinic=clinic_name(),
        ),
        description=_(
            "%(branch)s: address, directions, parking, opening hours and phone. "
            "Physiotherapy, acupressure and home visits across %(city)s.",
            branch=branch.name,
            city=branch.city,
        ),
        path=url_for("site.branch", slug=branch.slug),
        structured=[
            physiotherapy(branch),
            breadcrumbs(
                [(_("Home"), url_for("site.home")), (_("Clinics"), url_for("site.contact"))],
                branch.name,
                "site.branch",
                slug=branch.slug,
            ),
        ],
    )


def contact_page(branches: list[Branch]) -> PageMeta:
    return PageMeta(
        title=_("Contact us and find a clinic · %(clinic)s", clinic=clinic_name()),
        description=_(
            "Phone numbers, addresses and opening hours of our clinics in %(cities)s, "
            "or leave your number and we will call you back.",
            cities=_cities(branches),
        ),
        path=url_for("site.contact"),
        structured=[organisation(branches)],
    )


def privacy_page() -> PageMeta:
    return PageMeta(
        title=_("Privacy notice · %(clinic)s", clinic=clinic_name()),
        description=_(
            "What we do with the details you send through our reach-out form, how long we keep "
            "them, and how to see or erase them."
        ),
        path=url_for("site.privacy"),
    )


# --- JSON-LD -------------------------------------------------------------------------------------


def organisation(branches: list[Branch]) -> JsonLd:
    return {
        "@context": SCHEMA,
        "@type": "MedicalOrganization",
        "@id": absolute("/#organization"),
        "name": clinic_name(),
        "url": absolute(url_for("site.home")),
        "logo": absolute(url_for("static", filename=LOGO)),
        "image": absolute(url_for("static", filename=SHARE_IMAGE)),
        "medicalSpecialty": "Physiotherapy",
        "department": [_physiotherapy_body(branch) for branch in branches],
    }


def physiotherapy(branch: Branch) -> JsonLd:
    """A branch as a schema.org ``Physiotherapy`` business."""
    return {"@context": SCHEMA, **_physiotherapy_body(branch)}


def _physiotherapy_body(branch: Branch) -> JsonLd:
    url = absolute(url_for("site.branch", slug=branch.slug))
    body: JsonLd = {
        "@type": "Physiotherapy",
        "@id": f"{url}#clinic",
        "name": branch.name,
        "url": url,
        "telephone": branch.phone,
        "image": absolute(url_for("static", filename=SHARE_IMAGE)),
        "address": postal_address(branch),
        "openingHoursSpecification": [
            {
                "@type": "OpeningHoursSpecification",
                "dayOfWeek": f"{SCHEMA}/{SCHEMA_DAYS[day]}",
                "opens": start.strftime("%H:%M"),
                "closes": end.strftime("%H:%M"),
            }
            for day in WEEKDAYS
            for start, end in opening_spans(branch, day)
        ],
        "parentOrganization": {"@id": absolute("/#organization")},
    }
    if branch.latitude is not None and branch.longitude is not None:
        body["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": branch.latitude,
            "longitude": branch.longitude,
        }
    return body


def postal_address(branch: Branch) -> JsonLd:
    """The branch's address lines as schema.org parts: street, locality, postcode, region.

    The stored address is three or more lines: street, "area, City PIN", state.
    """
    lines = [line.strip() for line in branch.address.splitlines() if line.strip()]
    postcode = POSTCODE.search(branch.address)
    region = lines.pop() if len(lines) >= 3 else None
    street = ", ".join(lines)
    if postcode:
        street = street.replace(postcode.group(1), "")
    street = re.sub(rf",\s*{re.escape(branch.city)}\s*$", "", street.strip())
    address: JsonLd = {
        "@type": "PostalAddress",
        "streetAddress": street.strip(" ,"),
        "addressLocality": branch.city,
        "addressCountry": "IN",
    }
    if postcode:
        address["postalCode"] = postcode.group(1)
    if region:
        address["addressRegion"] = region
    return address


def blog_posting(article: Article) -> JsonLd:
    path = without_language(url_for("site.article", slug=article.slug))
    url = absolute(path_in_language(article.language, path))
    return {
        "@context": SCHEMA,
        "@type": "BlogPosting",
        "headline": article.title,
        "description": article.summary,
        "url": url,
        "datePublished": article.date.isoformat(),
        "dateModified": article.modified.isoformat(),
        "inLanguage": LANGUAGES[article.language].html_lang,
        "image": absolute(url_for("static", filename=SHARE_IMAGE)),
        "author": {"@type": "Organization", "name": article.author},
        "publisher": {"@id": absolute("/#organization")},
        # Who checked the health advice, and when: a property of the page, not of the post.
        "mainEntityOfPage": {
            "@type": "MedicalWebPage",
            "@id": url,
            "lastReviewed": article.last_reviewed.isoformat(),
            "reviewedBy": {"@type": "Person", "name": article.reviewed_by},
        },
    }


def faq_page(article: Article) -> JsonLd:
    return {
        "@context": SCHEMA,
        "@type": "FAQPage",
        "mainEntity": [
            {
                "@type": "Question",
                "name": question,
                "acceptedAnswer": {"@type": "Answer", "text": answer},
            }
            for question, answer in article.faq
        ],
    }


def breadcrumbs(
    parents: list[tuple[str, str]], name: str, endpoint: str, **values: object
) -> JsonLd:
    trail = [*parents, (name, url_for(endpoint, **values))]
    return {
        "@context": SCHEMA,
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": position, "name": label, "item": absolute(path)}
            for position, (label, path) in enumerate(trail, start=1)
        ],
    }


def _cities(branches: list[Branch]) -> str:
    cities = [branch.city for branch in branches]
    return format_list(cities, locale=babel_locale()) if cities else _("India")
