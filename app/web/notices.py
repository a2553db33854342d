"""Printable notices of a village: the 公示 of certification results and the 公告 of closures, as a page to
print (A4) and as a PDF."""

from __future__ import annotations

from flask import Blueprint, current_app, make_response, render_template, request
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.areas import county_name_of
from app.clock import china_today
from app.notices.lists import KINDS, Notice, notice_kind, village_notice, visible_village
from app.notices.pdf import find_font, render_notice_pdf

bp = Blueprint("notices", __name__, url_prefix="/notices")


def _notice(village_code: str) -> Notice:
    village = visible_village(current_user, village_code)
    return village_notice(village, notice_kind(request.args.get("kind")), county_name_of(village.code))


@bp.route("/<village_code>")
@login_required
def show(village_code: str) -> str:
    return render_template("notices/notice.html", notice=_notice(village_code), kinds=KINDS)


@bp.route("/<village_code>.pdf")
@login_required
def pdf(village_code: str) -> Response:
    notice = _notice(village_code)
    font = find_font(current_app.config.get("NOTICE_FONT_FILE"), int(current_app.config.get("NOTICE_FONT_INDEX", 0)))
    response = make_response(render_notice_pdf(notice, font))
    response.mimetype = "application/pdf"
    name = f"{notice.village_name}{notice.kind.label}_{china_today().isoformat()}.pdf"
    response.headers["Content-Disposition"] = _attachment(name, f"{notice.village_code}_{notice.kind.code}.pdf")
    response.headers["Cache-Control"] = "no-store"
    return response


def _attachment(name: str, ascii_name: str) -> str:
    from urllib.parse import quote

    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
