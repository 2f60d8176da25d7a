"""The voucher's QR image: the signed code as a QR symbol, captioned for people, rendered once and cached."""

from __future__ import annotations

import glob
import os
import secrets
from functools import lru_cache

import qrcode
from flask import current_app
from PIL import Image, ImageDraw, ImageFont

from carbon_platform.clock import CITY_TZ
from carbon_platform.models import Voucher
from carbon_platform.services.vouchers import code_of, short_code_of

#: Where Debian (fonts-noto-cjk, fonts-wqy-*) puts fonts that can draw Chinese.
CJK_FONT_PATTERNS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/**/*CJK*.tt[cf]",
                     "/usr/share/fonts/**/wqy*.tt[cf]")
WIDTH, MARGIN, LINE = 480, 24, 30


@lru_cache(maxsize=1)
def _cjk_font_path() -> str | None:
    for pattern in CJK_FONT_PATTERNS:
        found = sorted(glob.glob(pattern, recursive=True))
        if found:
            return found[0]
    return None


def _font(size: int) -> tuple[ImageFont.ImageFont, bool]:
    """A font and whether it can draw Chinese (without one, captions fall back to English)."""
    path = _cjk_font_path()
    if path:
        return ImageFont.truetype(path, size), True
    return ImageFont.load_default(size=size), False


def caption(voucher: Voucher, chinese: bool) -> list[str]:
    reward, merchant = voucher.reward, voucher.reward.merchant
    expires = voucher.expires_at.astimezone(CITY_TZ).strftime("%Y-%m-%d %H:%M")
    short = short_code_of(voucher.id, voucher.nonce)
    readable = f"{short[:5]}-{short[5:]}"
    if chinese:
        return [reward.name_zh, merchant.name, f"有效期至 {expires}", f"手工录入码 {readable}"]
    return [reward.name_en, f"Merchant #{merchant.id}", f"Valid until {expires} (Beijing)", f"Code {readable}"]


def render(voucher: Voucher, out: str) -> None:
    symbol = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=2)
    symbol.add_data(code_of(voucher))
    symbol.make(fit=True)
    qr = symbol.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    qr = qr.resize((WIDTH - 2 * MARGIN, WIDTH - 2 * MARGIN), Image.NEAREST)
    font, chinese = _font(22)
    lines = caption(voucher, chinese)
    image = Image.new("RGB", (WIDTH, WIDTH + LINE * len(lines) + MARGIN), "white")
    image.paste(qr, (MARGIN, MARGIN))
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((MARGIN, WIDTH + i * LINE), line, fill="black", font=font)
    image.save(out, "PNG", optimize=True)


def _path(voucher: Voucher) -> str:
    folder = os.path.join(current_app.config["UPLOAD_FOLDER"], "vouchers")
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, f"{voucher.id}-{voucher.nonce[:12]}.png")


def qr_png_path(voucher: Voucher) -> str:
    """The cached PNG, rendered on first request (an atomic rename: concurrent first requests are harmless)."""
    path = _path(voucher)
    if not os.path.exists(path):
        scratch = f"{path}.{secrets.token_hex(4)}.tmp"
        render(voucher, scratch)
        os.replace(scratch, path)
    return path
