"""The picture Zalo and Facebook show with a shared link (og:image): 1200x630 PNG, the survey's title on the Ministry's red.

Drawn with Pillow (already in the package for fpdf2) and the bundled DejaVu Sans, so Vietnamese
diacritics come out right on any machine. A card depends only on the survey's title and version;
the page links it as /s/{survey}/share.png?v={version}, so it is cached for a year and a new version
gets a new address (see chalicelib/api/channels.py).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

    from chalicelib.domain.channels import ShareCard

from chalicelib.web.poster import FONTS

WIDTH, HEIGHT = 1200, 630
PAD = 72
RED = (163, 21, 21)
DARK_RED = (120, 12, 12)
WHITE = (255, 255, 255)
PALE = (255, 226, 226)
PORTAL_TITLE = ("Khảo sát sự hài lòng của người dân, tổ chức", "Citizen satisfaction surveys")


def render_share_card(card: ShareCard | None) -> bytes:
    """A survey's card, or the portal's (card None)."""
    from PIL import Image, ImageDraw

    title_vi, title_en = (card.title_vi, card.title_en) if card else PORTAL_TITLE
    image = Image.new("RGB", (WIDTH, HEIGHT), RED)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, HEIGHT - 96, WIDTH, HEIGHT), fill=DARK_RED)
    draw.rectangle((PAD, PAD, PAD + 120, PAD + 8), fill=WHITE)
    draw.text((PAD, PAD + 28), "BỘ NỘI VỤ · MINISTRY OF HOME AFFAIRS", font=_font(True, 30), fill=PALE)
    top, bottom = PAD + 84, HEIGHT - 96 - 28
    # the largest title that leaves room for the English line under it
    for vi_size, en_size in ((64, 30), (56, 28), (48, 26), (42, 24), (36, 22)):
        vi_lines = _wrap(draw, title_vi, _font(True, vi_size), WIDTH - 2 * PAD)
        en_lines = _wrap(draw, title_en, _font(False, en_size), WIDTH - 2 * PAD) if title_en else []
        used = len(vi_lines) * int(vi_size * 1.22) + (len(en_lines[:2]) * int(en_size * 1.22) + 16 if en_lines else 0)
        if used <= bottom - top:
            break
    y = _paragraph(draw, title_vi, top, bold=True, size=vi_size, lines=5, fill=WHITE)
    if title_en:
        _paragraph(draw, title_en, y + 16, bold=False, size=en_size, lines=2, fill=PALE)
    draw.text((PAD, HEIGHT - 96 + 30), "Trả lời phiếu trực tuyến · Answer online", font=_font(False, 30), fill=WHITE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _paragraph(
    draw: ImageDraw.ImageDraw, text: str, top: int, *, bold: bool, size: int, lines: int, fill: tuple[int, int, int]
) -> int:
    """The text wrapped to the card's width, at most `lines` lines (the last ends in … when cut); returns its bottom."""
    width, font = WIDTH - 2 * PAD, _font(bold, size)
    wrapped = _wrap(draw, text, font, width)
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        last = wrapped[-1]
        while last and draw.textlength(last + " …", font=font) > width:
            last = last[:-1].rstrip()
        wrapped[-1] = last + " …"
    line_height = int(size * 1.22)
    for number, line in enumerate(wrapped):
        draw.text((PAD, top + number * line_height), line, font=font, fill=fill)
    return top + len(wrapped) * line_height


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and draw.textlength(candidate, font=font) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def _font(bold: bool, size: int) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont

    return ImageFont.truetype(str(FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")), size)
