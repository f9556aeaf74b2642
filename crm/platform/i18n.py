"""The patient's language: English, Kannada, Telugu or Hindi, carried in the URL.

A public page in Kannada lives at ``/kn/...`` and its English original at ``/...``, so a shared
or indexed link always opens in the language it was shared in. The prefix is moved from the path
into ``SCRIPT_NAME`` before Flask routes the request: the routes are written once, and every
``url_for`` made while answering a ``/kn/`` page points at the ``/kn/`` version of its target.
The few addresses that are the same in every language (static files, the staff CRM, feeds and
machine files) are built without the prefix, and asking for them under one is "not found".

Staff pages stay in English: the language only ever comes from a public page's URL, or, for the
patient's emails, from the enquiry they wrote in (``force_locale``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.lists import format_list
from babel.support import NullTranslations
from flask import Flask, Response, abort, g, request
from flask.typing import ResponseReturnValue
from flask_babel import Babel, force_locale, get_locale, get_translations
from flask_babel.speaklater import LazyString
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

DEFAULT_LANGUAGE = "en"
ENVIRON_KEY = "crm.language"


@dataclass(frozen=True, slots=True)
class Language:
    code: str
    native_name: str  # what the switcher shows: a reader finds their own language by its script
    english_name: str  # what staff read ("prefers Telugu")
    html_lang: str  # the page's lang attribute and hreflang value


LANGUAGES: dict[str, Language] = {
    language.code: language
    for language in (
        Language("en", "English", "English", "en-IN"),
        Language("kn", "ಕನ್ನಡ", "Kannada", "kn-IN"),
        Language("te", "తెలుగు", "Telugu", "te-IN"),
        Language("hi", "हिन्दी", "Hindi", "hi-IN"),
    )
}
PREFIXED = tuple(code for code in LANGUAGES if code != DEFAULT_LANGUAGE)

# Public endpoints that have one address whatever the language.
LANGUAGE_NEUTRAL_ENDPOINTS = frozenset(
    {"static", "site.feed", "site.favicon", "site.robots", "site.sitemap", "site.healthz"}
)
LANGUAGE_BLUEPRINTS = frozenset({"site", "intake"})


def is_language_aware(endpoint: str | None) -> bool:
    """Whether a page at ``endpoint`` exists in every language (under ``/kn/`` and the rest)."""
    if endpoint is None or endpoint in LANGUAGE_NEUTRAL_ENDPOINTS:
        return False
    return endpoint.partition(".")[0] in LANGUAGE_BLUEPRINTS


class LanguagePrefix:
    """WSGI middleware: ``/te/blog/x`` is routed as ``/blog/x`` with the language noted."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        for code in PREFIXED:
            prefix = f"/{code}"
            if path == prefix or path.startswith(prefix + "/"):
                environ[ENVIRON_KEY] = code
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
                environ["PATH_INFO"] = path[len(prefix) :] or "/"
                break
        return self.app(environ, start_response)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it here.

    For words kept in English where they are stored or shown to staff, and translated with
    ``gettext(message)`` where a patient reads them.
    """
    return message


def current_language() -> str:
    """The language of the page being answered; English outside a request or on staff pages."""
    if not request:
        return DEFAULT_LANGUAGE
    return str(request.environ.get(ENVIRON_KEY, DEFAULT_LANGUAGE))


def _script_root_without_language() -> str:
    root = request.script_root
    code = request.environ.get(ENVIRON_KEY)
    if code and root.endswith(f"/{code}"):
        return root[: -len(code) - 1]
    return root


def without_language(path: str) -> str:
    """A path built on this page (``/kn/contact``) as ``path_in_language`` takes it."""
    root = request.script_root
    if root and (path == root or path.startswith(root + "/")):
        return path[len(root) :] or "/"
    return path


def path_in_language(code: str, path: str | None = None) -> str:
    """This page's path (or ``path``, given without any prefix) in the language ``code``."""
    prefix = "" if code == DEFAULT_LANGUAGE else f"/{code}"
    return _script_root_without_language() + prefix + (request.path if path is None else path)


def locale_language() -> str:
    """The language text is being written in: the page's, or the one ``force_locale`` chose
    (a patient's email rendered in the language of their enquiry)."""
    state = _babel_state()
    locale = getattr(state, "babel_locale", None) if state is not None else None
    if locale is None:
        locale = get_locale()
    code = locale.language if locale is not None else DEFAULT_LANGUAGE
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def babel_locale() -> Locale:
    """The Indian variant of the language being written, for dates and lists (``en_IN`` writes
    "9 March 2025" and "A, B and C", as the clinic always has)."""
    return _indian_locale(locale_language())


@lru_cache(maxsize=len(LANGUAGES))
def _indian_locale(code: str) -> Locale:
    return Locale.parse(LANGUAGES[code].html_lang, sep="-")


def long_date(day: date) -> str:
    """A date in words in the reader's language; digits stay 0-9 (CLDR's "latn" for kn/te/hi)."""
    return format_date(day, "long", locale=babel_locale())


def list_of(items: Iterable[object], style: str = "standard") -> Markup:
    """Items joined the way the language joins them ("A, B and C"; ``style="or"``: "A or B").

    Markup items (links) stay markup; anything else is escaped.
    """
    escaped = [str(escape(item)) for item in items]
    return Markup(format_list(escaped, style=style, locale=babel_locale()))  # noqa: S704


def link_to(href: str, text: object) -> Markup:
    """A link to drop into a translated sentence as one placeholder."""
    return Markup('<a href="{}">{}</a>').format(href, text)


def strong(text: object) -> Markup:
    return Markup("<strong>{}</strong>").format(text)


@dataclass(frozen=True, slots=True)
class Suggestion:
    language: Language
    href: str
    text: str  # in the suggested language, which the visitor reads better than English


def language_suggestion() -> Suggestion | None:
    """On an English page, the version in a language the browser prefers to English, if any.

    Only ever a link: a shared or indexed English link stays English (no redirect, no cookie).
    """
    if not request or request.method != "GET" or current_language() != DEFAULT_LANGUAGE:
        return None
    if not is_language_aware(request.endpoint):
        return None
    best = _preferred_language()
    if best is None or best == DEFAULT_LANGUAGE:
        return None
    language = LANGUAGES[best]
    with force_locale(best):
        text = gettext("This page is also in %(language)s.", language=language.native_name)
    return Suggestion(language, path_in_language(best), text)


@pass_context
def page_in_language(context: Context, code: str) -> str:
    """This page in language ``code``: the page being drawn (``page_meta``), not the request's
    path, which for a refused form is the address it was posted to."""
    meta = context.get("page_meta")
    return path_in_language(code, without_language(meta.path) if meta is not None else None)


def _preferred_language() -> str | None:
    """The first of our languages in the browser's order of preference ("hi-IN" counts as
    Hindi even when plain "en" follows it)."""
    for value, quality in request.accept_languages:  # highest quality first
        code = value.replace("_", "-").split("-")[0].lower()
        if quality > 0 and code in LANGUAGES:
            return code
    return None


class LanguageAwareFlask(Flask):
    """Builds language-neutral addresses without the page's language prefix."""

    def url_for(self, /, endpoint: str, **values: Any) -> str:  # type: ignore[override]
        url = super().url_for(endpoint, **values)
        if request and request.environ.get(ENVIRON_KEY) and not _keeps_language(endpoint):
            prefixed_root = request.script_root + "/"
            url = url.replace(prefixed_root, _script_root_without_language() + "/", 1)
        return url


def _keeps_language(endpoint: str) -> bool:
    if endpoint.startswith("."):  # relative to the current blueprint
        endpoint = f"{request.blueprint}{endpoint}"
    return is_language_aware(endpoint)


def _babel_state() -> Any | None:
    """Flask-Babel's per-request state (locale, forced locale), or None before it exists."""
    try:
        return g._flask_babel
    except (AttributeError, RuntimeError):
        return None


def _translations() -> NullTranslations:
    """Flask-Babel's catalogue for the current locale, looked up once per request and locale.

    A page asks for some eighty strings, and Flask-Babel finds the request's state, locale and
    catalogue afresh for each through several context lookups: together about a millisecond of
    a public page. ``force_locale`` puts a new locale object in place, so the cache follows it.
    """
    state = _babel_state()
    if state is not None:
        cached = getattr(state, "crm_translations", None)
        if cached is not None and cached[0] is getattr(state, "babel_locale", None):
            return cached[1]
    translations = get_translations()
    state = _babel_state()
    if state is not None and getattr(state, "babel_locale", None) is not None:
        state.crm_translations = (state.babel_locale, translations)
    return translations


def gettext(message: str, **variables: Any) -> str:
    """``message`` in the current language, with ``%(name)s`` placeholders filled in."""
    text: str = _translations().ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    text: str = _translations().ungettext(singular, plural, num)
    return text % variables


def lazy_gettext(message: str, **variables: Any) -> LazyString:
    """``gettext`` put off until the text is shown, for words written at import time."""
    return LazyString(gettext, message, **variables)


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=current_language)
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda message: _translations().ugettext(message),
        ngettext=lambda singular, plural, n: _translations().ungettext(singular, plural, n),
        newstyle=True,
    )
    # WTForms' own messages are never shown (each validator here has its own words), so its
    # translation layer through Flask-Babel would only cost time on every form.
    app.config.setdefault("WTF_I18N_ENABLED", False)
    app.add_template_filter(long_date, "long_date")
    app.add_template_filter(list_of, "list_of")
    app.add_template_global(link_to, "link_to")
    app.add_template_global(strong, "strong")
    app.add_template_global(page_in_language, "page_in_language")
    app.wsgi_app = LanguagePrefix(app.wsgi_app)  # type: ignore[method-assign]

    @app.before_request
    def _only_public_pages_have_languages() -> ResponseReturnValue | None:
        if request.environ.get(ENVIRON_KEY) and not is_language_aware(request.endpoint):
            abort(404)
        return None

    @app.after_request
    def _vary_on_accept_language(response: Response) -> Response:
        # An English page may carry a suggestion drawn from Accept-Language.
        if current_language() == DEFAULT_LANGUAGE and is_language_aware(request.endpoint):
            response.vary.add("Accept-Language")
        return response

    @app.context_processor
    def _language_globals() -> dict[str, object]:
        # The page's language, or the one an email is being written in (force_locale).
        code = locale_language()
        return {
            "current_language": code,
            "html_lang": LANGUAGES[code].html_lang,
            "languages": LANGUAGES,
            "path_in_language": path_in_language,
            "language_suggestion": language_suggestion,
            # For text kept in English on a page in another language (addresses, an article
            # not yet translated): screen readers then read it with English rules.
            "in_english": Markup("") if code == DEFAULT_LANGUAGE else Markup(' lang="en-IN"'),
        }
