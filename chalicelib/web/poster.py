"""A counter's printable A4 poster (PDF): the survey, the agency and counter, a large QR code, the address.

fpdf2 writes it: pure Python, one small dependency tree (fonttools, Pillow, defusedxml), Unicode TrueType
fonts embedded as subsets, and a few hundred kilobytes in the Lambda package; reportlab would do the same
with a larger package and C extensions. The font is the DejaVu Sans bundled in chalicelib/web/fonts/
(free licence, see LICENSE there), never a system font: Lambda has none, and Vietnamese needs its
diacritics (ạ ắ ề ổ ự …) drawn by one font, not patched from another.

The QR code is drawn as vector rectangles from its matrix, so it is sharp at any printer's resolution.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.domain.channels import Poster

FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVuSans"
RED = (163, 21, 21)  # the site's header (site.css)
BLUE = (11, 79, 156)
GREY = (85, 85, 85)
INK = (27, 27, 27)
PAGE_W, PAGE_H, MARGIN = 210.0, 297.0, 16.0
QR_SIDE = 125.0  # mm with the quiet zone: scans from an arm's length and across a counter
BELOW_QR = 40.0  # mm: the scanning hint, the address, the English line


def render_poster(poster: Poster) -> bytes:
    from fpdf import FPDF  # lazy: only the poster route pays for it
    from fpdf.enums import XPos, YPos

    from chalicelib.domain.channels import MINISTRY_LINE_EN, MINISTRY_LINE_VI
    from chalicelib.web.qr import BORDER, dark_runs

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)  # one page, always: long texts shrink instead of spilling over
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_title(f"Mã QR khảo sát — {poster.location_name}")
    pdf.set_author(MINISTRY_LINE_VI)
    pdf.set_creator("PAR/SIPAS")
    pdf.set_lang("vi")
    pdf.add_page()
    width = PAGE_W - 2 * MARGIN

    def block(text: str, size: float, *, bold: bool = False, color: tuple[int, int, int] = INK, gap: float = 0) -> None:
        pdf.set_font(FONT, "B" if bold else "", size)
        pdf.set_text_color(*color)
        pdf.multi_cell(width, size * 0.47, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if gap:
            pdf.ln(gap)

    # the Ministry's band
    pdf.set_fill_color(*RED)
    pdf.rect(0, 0, PAGE_W, 20, style="F")
    pdf.set_xy(MARGIN, 6)
    block("BỘ NỘI VỤ · MINISTRY OF HOME AFFAIRS", 13, bold=True, color=(255, 255, 255))
    pdf.set_y(28)
    block("Mời Ông/Bà cho ý kiến về sự phục vụ", 24, bold=True, color=RED, gap=2)
    block(poster.title_vi, _fit(poster.title_vi, 14, 100), color=INK, gap=1)
    if poster.title_en:
        block(poster.title_en, _fit(poster.title_en, 10, 140), color=GREY, gap=3)
    block(poster.agency_name, 16, bold=True, gap=1)
    counter = poster.location_name + (f" — {poster.service}" if poster.service else "")
    block(counter, _fit(counter, 14, 90), color=BLUE)

    # the code with its quiet zone, centred in the room left between the texts above and those below
    size, runs = dark_runs(poster.url)
    module = QR_SIDE / (size + 2 * BORDER)
    below = PAGE_H - MARGIN - 12 - BELOW_QR  # where the address lines start
    top = max(pdf.get_y(), pdf.get_y() + (below - pdf.get_y() - QR_SIDE) / 2)
    left = (PAGE_W - QR_SIDE) / 2
    pdf.set_fill_color(0, 0, 0)
    for row, column, length in runs:
        x, y = left + (BORDER + column) * module, top + (BORDER + row) * module
        pdf.rect(x, y, length * module, module, style="F")
    pdf.set_y(max(top + QR_SIDE, below))

    block("Quét mã bằng camera điện thoại hoặc Zalo để trả lời phiếu", 13, bold=True, gap=1)
    block("Hoặc gõ địa chỉ:", 11, color=GREY)
    block(poster.short_address, _fit(poster.short_address, 15, 48), bold=True, color=BLUE, gap=2)
    block(
        "Scan the code with your phone's camera to answer the survey, or type the address above.",
        10,
        color=GREY,
    )

    pdf.set_y(PAGE_H - MARGIN - 12)
    pdf.set_draw_color(*RED)
    pdf.line(MARGIN, pdf.get_y() - 2, PAGE_W - MARGIN, pdf.get_y() - 2)
    block(MINISTRY_LINE_VI, 9, bold=True, color=INK)
    block(f"{MINISTRY_LINE_EN} · {poster.agency_code} / {poster.location_code}", 8, color=GREY)
    return bytes(pdf.output())


def _fit(text: str, size: float, chars: int) -> float:
    """A smaller font for a longer text, so that every poster stays on one page."""
    return size if len(text) <= chars else max(size * 0.6, size * (chars / len(text)) ** 0.5)
