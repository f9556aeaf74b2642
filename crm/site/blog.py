"""Blog articles: Markdown files with front matter under ``crm/content/blog``.

The English original is ``blog/<slug>.md``; a translation is ``blog/<lang>/<slug>.md`` with the
same slug and front matter keys. A page in a language shows the translation where there is one
and the English original otherwise. Articles are our own files, rendered once and cached until
a file changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import frontmatter
import markdown
from markdown.extensions.toc import slugify
from markupsafe import Markup

from crm.platform.i18n import DEFAULT_LANGUAGE, PREFIXED

BLOG_DIR = Path(__file__).resolve().parent.parent / "content" / "blog"
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Health content names who wrote it, which clinician reviewed it and when (search engines and
# readers both look for that on medical topics).
REQUIRED_FIELDS = ("title", "slug", "date", "summary", "author", "reviewed_by", "last_reviewed")
WORDS_PER_MINUTE = 200
# The FAQ section is found by its heading's id, the same in every language: English headings get
# it from their words, translated ones write it out ("## ... {#frequently-asked-questions}").
FAQ_ID = "frequently-asked-questions"
HEADING_ID = re.compile(r"\s*\{[^}]*#([\w-]+)[^}]*\}\s*$")


class ArticleError(ValueError):
    """An article file is missing front matter or has a bad slug."""


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    date: date
    summary: str
    author: str
    body_html: Markup
    toc_html: Markup
    reading_minutes: int
    reviewed_by: str
    last_reviewed: date
    interest: str | None = None
    # (question, answer) pairs from the article's "Frequently asked questions" section.
    faq: tuple[tuple[str, str], ...] = ()
    language: str = DEFAULT_LANGUAGE  # the language this text is written in

    @property
    def modified(self) -> date:
        return max(self.date, self.last_reviewed)


def all_articles(language: str = DEFAULT_LANGUAGE) -> list[Article]:
    """Every article, newest first: in ``language`` where translated, in English otherwise."""
    originals = _load(_files(BLOG_DIR))
    if language == DEFAULT_LANGUAGE:
        return originals
    translated = {article.slug: article for article in translations(language)}
    return [translated.get(article.slug, article) for article in originals]


def find_article(slug: str, language: str = DEFAULT_LANGUAGE) -> Article | None:
    """The article in ``language`` if translated, else its English original; None if unknown."""
    if not SLUG.match(slug):
        return None
    return next((article for article in all_articles(language) if article.slug == slug), None)


def translations(language: str) -> list[Article]:
    """The articles written in ``language`` (each the translation of an English original)."""
    if language not in PREFIXED:
        return []
    originals = {article.slug for article in _load(_files(BLOG_DIR))}
    found = _load(_files(BLOG_DIR / language), language)
    strays = sorted(article.slug for article in found if article.slug not in originals)
    if strays:
        raise ArticleError(f"{language} translations without an English original: {strays}")
    return found


def languages_of(slug: str) -> list[str]:
    """The languages an article is written in: English first, then its translations."""
    return [DEFAULT_LANGUAGE] + [
        code for code in PREFIXED if any(article.slug == slug for article in translations(code))
    ]


def _files(folder: Path) -> tuple[tuple[Path, int], ...]:
    return tuple(sorted((path, path.stat().st_mtime_ns) for path in folder.glob("*.md")))


@lru_cache(maxsize=16)
def _load(files: tuple[tuple[Path, int], ...], language: str = DEFAULT_LANGUAGE) -> list[Article]:
    articles = [_parse(path, language) for path, _mtime in files]
    slugs = [article.slug for article in articles]
    duplicates = {slug for slug in slugs if slugs.count(slug) > 1}
    if duplicates:
        raise ArticleError(f"more than one article uses the slug {sorted(duplicates)}")
    return sorted(articles, key=lambda article: (article.date, article.slug), reverse=True)


def _parse(path: Path, language: str = DEFAULT_LANGUAGE) -> Article:
    post = frontmatter.load(path)
    missing = [name for name in REQUIRED_FIELDS if not post.get(name)]
    if missing:
        raise ArticleError(f"{path.name}: front matter lacks {', '.join(missing)}")
    slug = str(post["slug"])
    if not SLUG.match(slug):
        raise ArticleError(f"{path.name}: slug {slug!r} is not lower-case words joined by '-'")
    published = _date(post["date"])
    renderer = markdown.Markdown(
        extensions=["toc", "tables", "attr_list", "sane_lists"],
        extension_configs={"toc": {"toc_depth": "2-2", "permalink": False}},
        output_format="html",
    )
    body = renderer.convert(post.content)
    # Diagrams are inline SVG: their markup is not reading.
    words = len(re.sub(r"<[^>]+>", " ", post.content).split())
    return Article(
        slug=slug,
        title=str(post["title"]),
        date=published,
        summary=str(post["summary"]),
        author=str(post["author"]),
        # Our own files, written by the clinic: trusted Markdown, not visitor input.
        body_html=Markup(body),  # noqa: S704
        toc_html=Markup(getattr(renderer, "toc", "")),  # noqa: S704
        reading_minutes=max(1, round(words / WORDS_PER_MINUTE)),
        reviewed_by=str(post["reviewed_by"]),
        last_reviewed=_date(post["last_reviewed"]),
        interest=post.get("interest"),
        faq=_faq(post.content),
        language=language,
    )


def _date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _faq(content: str) -> tuple[tuple[str, str], ...]:
    """Questions (level-3 headings) and answers (the text under each) of the FAQ section."""
    pairs: list[tuple[str, list[str]]] = []
    inside = False
    for line in content.splitlines():
        if line.startswith("## "):
            inside = _heading_id(line[3:]) == FAQ_ID
        elif inside and line.startswith("### "):
            pairs.append((HEADING_ID.sub("", line[4:]).strip(), []))
        elif inside and pairs and line.strip():
            pairs[-1][1].append(line.strip())
    return tuple((question, _plain(" ".join(answer))) for question, answer in pairs if answer)


def _heading_id(heading: str) -> str:
    """The id the heading gets on the page: written out with ``{#id}``, else made from its words."""
    explicit = HEADING_ID.search(heading)
    if explicit:
        return explicit.group(1)
    return slugify(heading.strip(), "-")


def _plain(markdown_text: str) -> str:
    """Markdown emphasis and links reduced to their words, for structured data."""
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", markdown_text)
    return re.sub(r"[*_`]+", "", text)
