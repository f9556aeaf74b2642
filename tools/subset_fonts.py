"""Make the site's Kannada, Telugu and Devanagari web fonts: subsetted Noto Sans as WOFF2.

    .venv/bin/python tools/subset_fonts.py [--source /usr/share/fonts/truetype/noto]
    make fonts

The source fonts are Debian's (``apt-get install fonts-noto-core``), under the SIL Open Font
License 1.1 with no Reserved Font Name, so a subset may keep the Noto name. For each script this
writes into ``crm/static``:

- ``fonts/noto-sans-SCRIPT-regular.woff2`` and ``-bold.woff2``: the script's Unicode block and the
  few characters its text needs around it (dandas, zero-width joiners, the dotted circle a shaper
  shows for a stray mark), with every OpenType layout feature kept, since conjuncts, matras and
  reph are made by GSUB and GPOS. Latin letters, digits and punctuation are left to the system
  font: they are in every font a phone has. Hinting is dropped (phones and modern desktops
  ignore it for these scripts, and it is a third of the file).
- ``fonts/language-names-SCRIPT.woff2``: only the glyphs of the language's own name (ಕನ್ನಡ,
  తెలుగు, हिन्दी), for the language switcher on every page: an English page downloads a few
  KB for it, never a whole font.
- ``css/fonts-SCRIPT.css``: the ``@font-face`` rules of the two full faces, linked only on pages
  in that language (``templates/site/_fonts.html``), and the names faces between the markers in
  ``css/site.css``. Each ``unicode-range`` is read back from the font written, so the two agree.
- ``fonts/FONTLOG.txt``: where each font came from (package version, checksum) and what changed.

The output depends only on the source files and the fontTools version: running it again on the
same sources leaves the repository unchanged.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import fontTools
import uharfbuzz as hb
from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "crm" / "static"
FONTS = STATIC / "fonts"
CSS = STATIC / "css"
SITE_CSS = CSS / "site.css"
DEFAULT_SOURCE = Path("/usr/share/fonts/truetype/noto")
DEBIAN_PACKAGE = "fonts-noto-core"
BEGIN = "/* fonts:begin (written by tools/subset_fonts.py; edit the script, not this block) */"
END = "/* fonts:end */"
NAMES_FAMILY = "Noto Sans Language Names"

# Around every Indic script: ZWNJ and ZWJ choose between conjunct and half forms, and the
# dotted circle is what a shaper draws under a mark that has no letter to sit on.
JOINERS = {0x200C, 0x200D, 0x25CC}
# Devanagari-block characters that Kannada and Telugu text uses too: the dandas (sentence ends)
# and the two Vedic accents, where the source font carries them.
SHARED_DEVANAGARI = {0x0951, 0x0952, 0x0964, 0x0965}


@dataclass(frozen=True)
class Script:
    slug: str  # in file names
    source: str  # Debian's file name stem
    family: str  # the CSS family: unique, so no font installed on a machine is taken for it
    block: range
    native_name: str  # what the language switcher shows on every page
    # Words with conjuncts, reph, pre-base and below-base matras and subjoined forms, shaped with
    # the source and with the subset: both must give the same glyphs in the same places.
    samples: str
    shared: frozenset[int] = frozenset()

    def code_points(self) -> set[int]:
        return set(self.block) | JOINERS | set(self.shared)


SCRIPTS = (
    Script(
        "kannada",
        "NotoSansKannada",
        "Noto Sans Kannada Web",
        range(0x0C80, 0x0D00),
        "ಕನ್ನಡ",
        "ಕನ್ನಡ ಕಾರ್ಯ ಸ್ತ್ರೀ ಬೆನ್ನು ನೋವು ಮೊಣಕಾಲು ಕ್ಷೇತ್ರ ಶ್ರೀ ಚಿಕಿತ್ಸೆ ಫಿಸಿಯೋಥೆರಪಿ ಸೊಂಟ",
        frozenset(SHARED_DEVANAGARI),
    ),
    Script(
        "telugu",
        "NotoSansTelugu",
        "Noto Sans Telugu Web",
        range(0x0C00, 0x0C80),
        "తెలుగు",
        "తెలుగు కార్యం స్త్రీ వెన్నునొప్పి మోకాలి క్షేత్రం శ్రీ చికిత్స ఫిజియోథెరపీ నడుము",
        frozenset(SHARED_DEVANAGARI),
    ),
    # Hindi needs the Devanagari block only; the Vedic extension blocks are left out.
    Script(
        "devanagari",
        "NotoSansDevanagari",
        "Noto Sans Devanagari Web",
        range(0x0900, 0x0980),
        "हिन्दी",
        "हिन्दी क्षत्रिय कमर दर्द श्री प्रिय शुद्ध घुटने इलाज फ़िज़ियोथेरेपी र्‍य क्‌ष",
    ),
)
WEIGHTS = {"regular": 400, "bold": 700}


def options() -> subset.Options:
    chosen = subset.Options()
    chosen.layout_features = ["*"]
    chosen.hinting = False
    # Family and style names, plus the copyright, licence and licence URL the OFL asks to keep.
    chosen.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    chosen.flavor = "woff2"
    # fontTools packs GSUB and GPOS its own way, or with HarfBuzz's packer where uharfbuzz is
    # installed (it is, for the shaping check); its own way gives the same bytes on every
    # machine, and they compress 5% better here.
    chosen.harfbuzz_repacker = False
    return chosen


def make_subset(source: Path, *, unicodes: set[int] | None = None, text: str = "") -> bytes:
    # As pyftsubset does it: among others, the source's timestamp is kept, not today's.
    chosen = options()
    font = subset.load_font(str(source), chosen)
    subsetter = subset.Subsetter(chosen)
    subsetter.populate(unicodes=sorted(unicodes or ()), text=text)
    subsetter.subset(font)
    out = io.BytesIO()
    subset.save_font(font, out, chosen)
    return out.getvalue()


def _sfnt(data: bytes) -> tuple[TTFont, bytes]:
    """The font, and its bytes as plain OpenType: HarfBuzz reads no WOFF2."""
    font = TTFont(io.BytesIO(data))
    font.flavor = None
    out = io.BytesIO()
    font.save(out)
    return font, out.getvalue()


def _shaped(data: bytes, word: str) -> list[tuple[object, ...]]:
    font, plain = _sfnt(data)
    shaper = hb.Font(hb.Face(hb.Blob(plain)))
    buffer = hb.Buffer()
    buffer.add_str(word)
    buffer.guess_segment_properties()
    # A joiner draws nothing either way; HarfBuzz shows it as a space glyph only where the font
    # has a space, and a subset has none.
    buffer.flags = hb.BufferFlags.REMOVE_DEFAULT_IGNORABLES
    hb.shape(shaper, buffer, {})
    glyf, order = font["glyf"], font.getGlyphOrder()
    shaped: list[tuple[object, ...]] = []
    for info, position in zip(buffer.glyph_infos, buffer.glyph_positions, strict=True):
        coordinates, ends, _flags = glyf[order[info.codepoint]].getCoordinates(glyf)
        outline = (tuple(coordinates), tuple(ends))
        offsets = (position.x_advance, position.x_offset, position.y_offset)
        shaped.append((info.cluster, offsets, outline, info.codepoint == 0))
    return shaped


def check_shaping(source: Path, data: bytes, text: str) -> None:
    """Each word must shape the same in the subset as in the source font, with no missing glyph.

    Word by word: the space is left to the system font, so a subset has none.
    """
    original = source.read_bytes()
    for word in text.split():
        expected, got = _shaped(original, word), _shaped(data, word)
        if got != expected or any(missing for *_rest, missing in got):
            raise SystemExit(f"{source.name}: {word!r} shapes differently in the subset")


def unicode_range(data: bytes) -> str:
    """The font's cmap as a CSS ``unicode-range``: runs of code points joined into ranges."""
    points = sorted(TTFont(io.BytesIO(data)).getBestCmap())
    runs: list[list[int]] = []
    for point in points:
        if runs and point == runs[-1][1] + 1:
            runs[-1][1] = point
        else:
            runs.append([point, point])
    return ", ".join(f"U+{a:04X}" if a == b else f"U+{a:04X}-{b:04X}" for a, b in runs)


def font_face(family: str, url: str, weight: int, ranges: str) -> str:
    return (
        "@font-face {\n"
        f'  font-family: "{family}";\n'
        "  font-style: normal;\n"
        f"  font-weight: {weight};\n"
        "  font-display: swap;\n"
        f'  src: url({url}) format("woff2");\n'
        f"  unicode-range: {ranges};\n"
        "}\n"
    )


def write_if_changed(path: Path, data: bytes) -> bool:
    if path.is_file() and path.read_bytes() == data:
        return False
    path.write_bytes(data)
    return True


def debian_version() -> str:
    try:
        answer = subprocess.run(  # noqa: S603
            ["dpkg-query", "-W", "-f=${Version}", DEBIAN_PACKAGE],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not installed through dpkg)"
    return answer.stdout.strip()


def replace_block(css: str, block: str) -> str:
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(css):
        raise SystemExit(f"{SITE_CSS} lacks the lines {BEGIN!r} ... {END!r}")
    return pattern.sub(lambda _m: f"{BEGIN}\n{block}{END}", css, count=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    args = parser.parse_args()
    missing = [
        f"{s.source}-{w.title()}.ttf"
        for s in SCRIPTS
        for w in WEIGHTS
        if not (args.source / f"{s.source}-{w.title()}.ttf").is_file()
    ]
    if missing:
        raise SystemExit(
            f"{', '.join(missing)} not in {args.source}: apt-get install {DEBIAN_PACKAGE}"
        )
    FONTS.mkdir(parents=True, exist_ok=True)
    changed: list[str] = []
    sources: list[str] = []
    outputs: list[str] = []
    names_faces: list[str] = []

    def keep(path: Path, data: bytes) -> None:
        if write_if_changed(path, data):
            changed.append(path.relative_to(ROOT).as_posix())

    for script in SCRIPTS:
        faces: list[str] = []
        for weight_name, weight in WEIGHTS.items():
            source = args.source / f"{script.source}-{weight_name.title()}.ttf"
            original = TTFont(source)
            version = original["name"].getDebugName(5) or "?"
            sources.append(
                f"  {source.name:<34} {version.split(';')[0]:<14} "
                f"sha256 {hashlib.sha256(source.read_bytes()).hexdigest()}"
            )
            data = make_subset(source, unicodes=script.code_points())
            check_shaping(source, data, script.samples)
            name = f"noto-sans-{script.slug}-{weight_name}.woff2"
            keep(FONTS / name, data)
            faces.append(font_face(script.family, f"../fonts/{name}", weight, unicode_range(data)))
            outputs.append(describe(name, data, f"{source.name}: {script.slug} block"))
        regular = args.source / f"{script.source}-Regular.ttf"
        names = make_subset(regular, text=script.native_name)
        check_shaping(regular, names, script.native_name)
        names_file = f"language-names-{script.slug}.woff2"
        keep(FONTS / names_file, names)
        names_faces.append(
            font_face(NAMES_FAMILY, f"../fonts/{names_file}", 400, unicode_range(names))
        )
        outputs.append(describe(names_file, names, f"{regular.name}: “{script.native_name}”"))
        header = (
            f"/* {script.family}: subsetted Noto Sans {script.slug.title()}, written by "
            "tools/subset_fonts.py.\n   Linked only on pages in this script's language "
            "(templates/site/_fonts.html). Licence: ../fonts/OFL.txt */\n"
        )
        keep(CSS / f"fonts-{script.slug}.css", (header + "\n".join(faces)).encode())

    site = SITE_CSS.read_text(encoding="utf-8")
    keep(SITE_CSS, replace_block(site, "\n".join(names_faces)).encode())
    keep(FONTS / "FONTLOG.txt", fontlog(sources, outputs).encode())
    for path in changed:
        print(f"wrote {path}", file=sys.stderr)
    if not changed:
        print("fonts unchanged", file=sys.stderr)


def describe(name: str, data: bytes, origin: str) -> str:
    font = TTFont(io.BytesIO(data))
    return (
        f"  {name:<36} {len(data):>6} bytes, {len(font.getGlyphOrder()):>4} glyphs, "
        f"{len(font.getBestCmap()):>3} characters  ({origin})"
    )


def fontlog(sources: list[str], outputs: list[str]) -> str:
    return "\n".join(
        [
            "FONTLOG: the web fonts in crm/static/fonts",
            "",
            "Modified Versions of Noto Sans Kannada, Noto Sans Telugu and Noto Sans Devanagari,",
            "Copyright 2015-2019 Google Inc. / Google LLC, under the SIL Open Font License 1.1",
            "(OFL.txt beside this file; the fonts name no Reserved Font Name).",
            "",
            f"Source: Debian package {DEBIAN_PACKAGE} {debian_version()}, which packages the",
            "upstream Noto fonts (https://github.com/notofonts), files:",
            *sources,
            "",
            f"Changes, made by tools/subset_fonts.py with fontTools {fontTools.version}:",
            "  - subsetted to one script's Unicode block plus ZWNJ, ZWJ and U+25CC (and for",
            "    Kannada and Telugu the dandas and Vedic accents of the Devanagari block);",
            "    language-names-* keep only the glyphs of the language's own name;",
            "  - every OpenType layout feature kept (GSUB, GPOS, GDEF), so text shapes as before;",
            "  - hinting removed; name table cut to family, style, version, copyright and licence;",
            "  - stored as WOFF2.",
            "",
            "Files:",
            *outputs,
            "",
        ]
    )


if __name__ == "__main__":
    main()
