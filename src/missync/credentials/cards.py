"""Login cards as a PDF: A4, eight cards a page (2 x 4) with dashed cut lines, readable in black and white.

A pupil's card: school, name, class, username, password (or the picture PIN as its animals with the
digits beneath), the school's sign-in address and, optionally, a QR code that signs the pupil in. A staff
card shows the username and email with a starred password (staff set their own from the activation email).
This module knows nothing of the database: `printing` turns accounts into `LoginCard`s.

Speed (2,000 cards well under 10 s): the animal pictures are embedded once and reused; QR codes are built
with a fixed mask (evaluating all eight is most of segno's time, and any mask is valid) and drawn as
vector rectangles, one per run of dark modules, written straight into the page's content stream.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import segno
from anyascii import anyascii
from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from missync.core.passwords import PICTURE_PIN_ANIMALS

# Binary (zlib only) page streams: ASCII85 on top only makes the file a quarter bigger and, in pure
# Python, costs about a second per 2,000 cards. A documented reportlab setting, used by this module alone.
rl_config.useA85 = 0
ANIMALS_DIR = Path(__file__).resolve().parent / "static" / "missync" / "animals"
COLUMNS, ROWS = 2, 4
PAGE_MARGIN = 10 * mm
PAD = 4 * mm
QR_SIZE = 24 * mm
STARS = "********"
SANS, SANS_BOLD, MONO_BOLD = "Helvetica", "Helvetica-Bold", "Courier-Bold"  # Courier tells I, l and 1 apart


@dataclass(frozen=True)
class LoginCard:
    """What one card shows. `password` None means a staff card (starred); `qr_url` None means no QR."""

    name: str
    username: str
    class_name: str = ""
    year_group: str = ""
    password: str | None = None
    email: str = ""
    qr_url: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.password is None

    @property
    def picture_pin(self) -> str | None:
        return self.password if self.password and self.password.isdigit() else None


@cache
def animal_image(digit: int) -> str:
    """The PNG of the animal for `digit` (reportlab embeds a file used many times only once)."""
    return str(ANIMALS_DIR / f"{PICTURE_PIN_ANIMALS[digit].lower()}.png")


def printable(text: str) -> str:
    """`text` in the standard PDF fonts' character set: characters outside it are transliterated."""
    try:
        text.encode("cp1252")
        return text
    except UnicodeEncodeError:
        return "".join(ch if _in_cp1252(ch) else anyascii(ch) for ch in text)


def _in_cp1252(ch: str) -> bool:
    try:
        ch.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _fit(text: str, font: str, size: float, width: float, smallest: float = 6) -> float:
    """The largest font size up to `size` at which `text` fits in `width`."""
    needed = stringWidth(text, font, size)
    if needed <= width:
        return size
    return max(smallest, size * width / needed)


def _draw(canvas: Canvas, x: float, y: float, text: str, font: str, size: float, width: float) -> None:
    text = printable(text)
    canvas.setFont(font, _fit(text, font, size, width))
    canvas.drawString(x, y, text)


def qr_operators(url: str, x: float, y: float, size: float) -> str:
    """PDF operators that paint the QR code of `url` as a black square of `size` points at (x, y)."""
    code = segno.make(url, error="m", micro=False, boost_error=False, mask=0)
    matrix = code.matrix
    count = len(matrix)
    border = 2  # modules of white around the code; the card's padding adds more
    unit = size / (count + 2 * border)
    runs: list[str] = []
    for row_index, row in enumerate(matrix):
        y_row = count - 1 - row_index + border
        start = -1
        for col, dark in enumerate(row):
            if dark and start < 0:
                start = col
            elif not dark and start >= 0:
                runs.append(f"{start + border} {y_row} {col - start} 1 re")
                start = -1
        if start >= 0:
            runs.append(f"{start + border} {y_row} {count - start} 1 re")
    return f"q 0 g {unit:.4f} 0 0 {unit:.4f} {x:.2f} {y:.2f} cm {' '.join(runs)} f Q"


class CardSheet:
    """Lays cards out on A4 pages: left to right, top to bottom, eight to a page."""

    def __init__(self, school_name: str, sign_in_url: str, title: str = "Login cards") -> None:
        self.buffer = io.BytesIO()
        self.canvas = Canvas(self.buffer, pagesize=A4, pageCompression=1, invariant=1)
        self.canvas.setTitle(printable(f"{title} · {school_name}"))
        self.canvas.setAuthor("missync")
        self.school_name = school_name
        self.sign_in_url = sign_in_url
        page_width, page_height = A4
        self.card_width = (page_width - 2 * PAGE_MARGIN) / COLUMNS
        self.card_height = (page_height - 2 * PAGE_MARGIN) / ROWS
        self.pages = 0
        self.on_page = 0

    def add(self, card: LoginCard) -> None:
        if self.on_page == 0:
            self.pages += 1
        column, row = self.on_page % COLUMNS, self.on_page // COLUMNS
        x = PAGE_MARGIN + column * self.card_width
        y = A4[1] - PAGE_MARGIN - (row + 1) * self.card_height
        self._card(card, x, y)
        self.on_page += 1
        if self.on_page == COLUMNS * ROWS:
            self._cut_lines()
            self.canvas.showPage()
            self.on_page = 0

    def finish(self) -> bytes:
        if self.on_page:
            self._cut_lines()
            self.canvas.showPage()
        elif self.pages == 0:
            self.pages = 1
            self.canvas.setFont(SANS, 12)
            self.canvas.drawString(PAGE_MARGIN, A4[1] - 2 * PAGE_MARGIN, "No login cards to print.")
            self.canvas.showPage()
        self.canvas.save()
        return self.buffer.getvalue()

    def _cut_lines(self) -> None:
        """Dashed lines right across the page at every card edge, for scissors or a guillotine."""
        c = self.canvas
        c.saveState()
        c.setStrokeGray(0.45)
        c.setLineWidth(0.5)
        c.setDash(3, 3)
        page_width, page_height = A4
        for column in range(COLUMNS + 1):
            x = PAGE_MARGIN + column * self.card_width
            c.line(x, 0, x, page_height)
        for row in range(ROWS + 1):
            y = PAGE_MARGIN + row * self.card_height
            c.line(0, y, page_width, y)
        c.restoreState()

    def _card(self, card: LoginCard, x: float, y: float) -> None:
        c = self.canvas
        left, top = x + PAD, y + self.card_height - PAD
        full = self.card_width - 2 * PAD
        beside_qr = full - (QR_SIZE + 2 * mm if card.qr_url else 0)
        c.setFillGray(0.2)
        _draw(c, left, top - 3 * mm, self.school_name, SANS, 7.5, full)
        c.setFillGray(0)
        _draw(c, left, top - 9.5 * mm, card.name, SANS_BOLD, 14, full)
        place = " · ".join(part for part in (card.class_name, card.year_group) if part)
        if card.is_staff:
            place = "Staff" + (f" · {place}" if place else "")
        _draw(
            c,
            left,
            top - 15 * mm,
            f"Class: {place}" if place and not card.is_staff else place,
            SANS,
            9.5,
            full,
        )
        self._label(left, top - 21 * mm, "Username")
        _draw(c, left, top - 27.5 * mm, card.username, MONO_BOLD, 15, beside_qr)
        if card.is_staff:
            self._staff_password(card, left, top, beside_qr)
        elif card.picture_pin:
            self._picture_pin(card.picture_pin, left, top, beside_qr)
        else:
            self._label(left, top - 33.5 * mm, "Password")
            _draw(c, left, top - 40 * mm, card.password or "", MONO_BOLD, 15, beside_qr)
        c.setFillGray(0.2)
        _draw(c, left, y + PAD + 1 * mm, f"Sign in at {self.sign_in_url}", SANS, 7.5, beside_qr)
        c.setFillGray(0)
        if card.qr_url:
            qr_x = x + self.card_width - PAD - QR_SIZE
            c.setFont(SANS, 6.5)
            c.drawCentredString(qr_x + QR_SIZE / 2, y + PAD + QR_SIZE + 1 * mm, "Scan to sign in")
            c.addLiteral(qr_operators(card.qr_url, qr_x, y + PAD, QR_SIZE))

    def _label(self, x: float, y: float, text: str) -> None:
        self.canvas.setFillGray(0.25)
        self.canvas.setFont(SANS, 7.5)
        self.canvas.drawString(x, y, text)
        self.canvas.setFillGray(0)

    def _staff_password(self, card: LoginCard, left: float, top: float, width: float) -> None:
        self._label(left, top - 33.5 * mm, "Password")
        _draw(self.canvas, left, top - 40 * mm, STARS, MONO_BOLD, 15, width)
        self.canvas.setFillGray(0.2)
        hint = f"Sign in with {card.email}" if card.email else "Sign in with your school email"
        _draw(self.canvas, left, top - 45 * mm, hint, SANS, 7.5, width)
        _draw(
            self.canvas,
            left,
            top - 49 * mm,
            "and the password you set from your activation email.",
            SANS,
            7.5,
            width,
        )
        self.canvas.setFillGray(0)

    def _picture_pin(self, pin: str, left: float, top: float, width: float) -> None:
        """The PIN's animals in a row, each with its digit beneath (and the animal's name, small)."""
        c = self.canvas
        self._label(left, top - 33.5 * mm, "Picture PIN")
        gap = 2 * mm
        size = min(13 * mm, (width - gap * (len(pin) - 1)) / len(pin))
        image_bottom = top - 35 * mm - size
        for index, ch in enumerate(pin):
            digit = int(ch)
            cell_x = left + index * (size + gap)
            c.drawImage(animal_image(digit), cell_x, image_bottom, size, size, mask="auto")
            c.setFont(SANS_BOLD, 12)
            c.drawCentredString(cell_x + size / 2, image_bottom - 4.5 * mm, ch)
        c.setFillGray(0.25)
        c.setFont(SANS, 6)
        for index, ch in enumerate(pin):
            cell_x = left + index * (size + gap)
            c.drawCentredString(cell_x + size / 2, image_bottom - 7.5 * mm, PICTURE_PIN_ANIMALS[int(ch)])
        c.setFillGray(0)


def render_cards(
    cards: Sequence[LoginCard], *, school_name: str, sign_in_url: str, title: str = "Login cards"
) -> tuple[bytes, int]:
    """The PDF of `cards` and its number of pages."""
    sheet = CardSheet(school_name, sign_in_url, title)
    for card in cards:
        sheet.add(card)
    return sheet.finish(), sheet.pages
