"""Importing an org tree from a spreadsheet (columns: unit, kind, parent[, code]).

Everything is checked first, every error reported at once; units are written only when the whole
file is clean, parents before children, inside one SAVEPOINT so a failure leaves nothing behind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import IO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.errors import ValidationError
from core.extensions import db
from core.imports.plan import ImportPlan, PlanRow, RowStatus
from core.org.models import Unit, UnitKind
from core.org.service import check_parent, create_unit, kind_label
from core.spreadsheet import Row, Table, build_template, read_table
from core.text import clean, fold

UNIT_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("Tên đơn vị", "Đơn vị", "Unit", "Tên", "Name"),
    "kind": ("Cấp", "Loại", "Loại đơn vị", "Cấp đơn vị", "Kind"),
    "parent": ("Đơn vị cấp trên", "Trực thuộc", "Cấp trên", "Parent"),
    "code": ("Mã đơn vị", "Mã", "Code"),
}
UNIT_REQUIRED = {"name", "kind", "parent"}

_HAMLET_WORDS = ("ap", "khu pho", "thon", "ban", "to dan pho", "khom", "buon", "soc", "lang", "xom", "hamlet")
_KIND_WORDS: dict[str, UnitKind] = {
    **dict.fromkeys(("tinh", "thanh pho truc thuoc trung uong", "tinh / thanh pho", "province"), UnitKind.PROVINCE),
    **dict.fromkeys(("huyen", "quan", "thi xa", "huyen / quan / thi xa", "district"), UnitKind.DISTRICT),
    **dict.fromkeys(("xa", "commune"), UnitKind.COMMUNE),
    **dict.fromkeys(("phuong", "ward"), UnitKind.WARD),
    **dict.fromkeys(("thi tran", "town"), UnitKind.TOWN),
    **dict.fromkeys(("dac khu", "special zone", "special_zone"), UnitKind.SPECIAL_ZONE),
    **dict.fromkeys((*_HAMLET_WORDS, "ap / khu pho / thon / ban"), UnitKind.HAMLET),
    **dict.fromkeys(("doanh nghiep", "cong ty", "enterprise"), UnitKind.ENTERPRISE),
}
_CITY = ("thanh pho", "tp")  # a city is a province at the top, a district-level unit below one
_SLASH = re.compile(r"\s*/\s*")
#: a valid tree is at most province > district > commune > hamlet; a longer chain of parents is a mistake
_MAX_CHAIN = 8


def parse_kind(text: str, has_parent: bool) -> UnitKind | None:
    """``"Thôn"`` → hamlet, ``"Cấp xã"`` → commune, ``"Thành phố"`` → province at the top, else district."""
    word = _SLASH.sub(" / ", fold(text))
    word = word.removeprefix("cap ")
    if word in _CITY:
        return UnitKind.DISTRICT if has_parent else UnitKind.PROVINCE
    return _KIND_WORDS.get(word)


def read_units_file(filename: str, stream: IO[bytes]) -> Table:
    return read_table(filename, stream, UNIT_COLUMNS, UNIT_REQUIRED, current_app.config["IMPORT_MAX_ROWS"])


def units_template() -> bytes:
    kinds = ["Tỉnh", "Huyện", "Xã", "Phường", "Thị trấn", "Đặc khu", "Ấp", "Khu phố", "Thôn", "Bản", "Doanh nghiệp"]
    return build_template(
        _("DANH SÁCH ĐƠN VỊ (cây tổ chức)"),
        ["Tên đơn vị", "Cấp", "Đơn vị cấp trên", "Mã đơn vị"],
        choices={2: kinds},
        text_columns=(4,),
        widths={1: 34, 3: 34},
        notes=[
            _("Mỗi dòng là một đơn vị. Cột “Đơn vị cấp trên” ghi tên (hoặc mã) của một đơn vị đã có trong hệ thống "
              "hoặc của một dòng khác trong tệp; để trống với cấp tỉnh."),
            _("Cấp: Tỉnh, Huyện/Quận/Thị xã, Thành phố, Xã, Phường, Thị trấn, Đặc khu, Ấp/Khu phố/Thôn/Bản/Tổ dân phố, "
              "Doanh nghiệp."),
            _("Xã/phường/thị trấn/đặc khu trực thuộc tỉnh hoặc huyện; ấp/khu phố trực thuộc xã/phường; "
              "doanh nghiệp trực thuộc tỉnh, huyện hoặc xã/phường."),
            _("Khi hai đơn vị trùng tên, hãy ghi mã đơn vị cấp trên thay cho tên. Dòng đã có sẵn sẽ được bỏ qua."),
        ],
    )


@dataclass(eq=False)
class _Item:
    row: PlanRow
    name: str
    kind: UnitKind | None
    parent_text: str
    code: str | None
    resolved: bool = False
    parent_unit: Unit | None = None  # an existing parent
    parent_item: _Item | None = None  # a parent written in another row of the file
    existing: Unit | None = None  # the unit this row already is
    created: Unit | None = None

    @property
    def parent_label(self) -> str:
        if self.parent_item is not None:
            return self.parent_item.name
        return self.parent_unit.name if self.parent_unit is not None else ""

    def place(self) -> tuple[str, int]:
        """Which parent this row hangs under, for spotting the same unit twice."""
        if self.parent_item is not None:
            return ("row", self.parent_item.row.number)
        return ("unit", self.parent_unit.id if self.parent_unit is not None else 0)


class _Resolver:
    """Finds every row's parent (an existing unit or another row), with cycle detection."""

    def __init__(self, plan: ImportPlan, items: list[_Item]) -> None:
        self.plan = plan
        self.units = list(db.session.scalars(select(Unit)))
        self.units_by_key: dict[str, list[Unit]] = {}
        self.children: dict[tuple[int | None, str], Unit] = {}
        self.codes = {unit.code: unit for unit in self.units if unit.code}
        for unit in self.units:
            for key in {fold(unit.name), fold(unit.code or "")} - {""}:
                self.units_by_key.setdefault(key, []).append(unit)
            self.children[(unit.parent_id, fold(unit.name))] = unit
        self.items_by_key: dict[str, list[_Item]] = {}
        for item in items:
            for key in {fold(item.name), fold(item.code or "")} - {""}:
                self.items_by_key.setdefault(key, []).append(item)
        self.stack: list[_Item] = []
        self.broken: set[_Item] = set()  # rows on a cycle: their parent stays unknown
        self.order: list[_Item] = []  # parents before children

    def resolve(self, item: _Item) -> None:
        if item.resolved:
            return
        if item in self.stack:
            chain = [*self.stack[self.stack.index(item):], item]
            path = " → ".join(f"“{link.name}” ({_('dòng %(n)d', n=link.row.number)})" for link in chain)
            for link in chain[:-1]:
                self.plan.fail(link.row, "parent", _("Vòng lặp trong cây đơn vị: %(path)s.", path=path))
                self.broken.add(link)
            return
        if len(self.stack) >= _MAX_CHAIN:
            self.plan.fail(item.row, "parent", _("Chuỗi đơn vị cấp trên dài quá %(n)d cấp.", n=_MAX_CHAIN))
            self.broken.update(self.stack)
            return
        self.stack.append(item)
        try:
            self._resolve_parent(item)
        finally:
            self.stack.pop()
        item.resolved = True
        self._match_existing(item)
        self.order.append(item)

    def _resolve_parent(self, item: _Item) -> None:
        if not item.parent_text:
            return
        key = fold(item.parent_text)
        found: dict[tuple[str, int], Unit | _Item] = {}
        for other in self.items_by_key.get(key, []):
            if other is item:
                continue  # "Châu Thành" under "Châu Thành" means another unit of that name, never itself
            self.resolve(other)
            if item in self.broken or not other.resolved:
                return  # a cycle or an over-long chain, reported on the rows concerned
            if other.existing is not None:
                found[("unit", other.existing.id)] = other.existing
            else:
                found[("row", other.row.number)] = other
        for unit in self.units_by_key.get(key, []):
            found[("unit", unit.id)] = unit
        if not found:
            self.plan.fail(
                item.row, "parent",
                _("Đơn vị không thể trực thuộc chính nó.") if item in self.items_by_key.get(key, [])
                else _("Không tìm thấy đơn vị cấp trên “%(p)s” trong hệ thống hay trong tệp.", p=item.parent_text),
            )
            return
        if len(found) > 1:
            places = "; ".join(self._describe(candidate) for candidate in found.values())
            self.plan.fail(
                item.row, "parent",
                _(
                    "Có %(n)d đơn vị tên “%(p)s” (%(places)s); hãy ghi mã đơn vị cấp trên thay cho tên.",
                    n=len(found), p=item.parent_text, places=places,
                ),
            )
            return
        (parent,) = found.values()
        if isinstance(parent, Unit):
            item.parent_unit = parent
        else:
            item.parent_item = parent

    @staticmethod
    def _describe(candidate: Unit | _Item) -> str:
        if isinstance(candidate, _Item):
            return _("dòng %(n)d của tệp", n=candidate.row.number)
        code = _(", mã %(c)s", c=candidate.code) if candidate.code else ""
        if candidate.parent is None:
            return _("%(name)s (cấp tỉnh)%(code)s", name=candidate.name, code=code)
        return _("%(name)s thuộc %(where)s%(code)s", name=candidate.name, where=candidate.parent.name, code=code)

    def _match_existing(self, item: _Item) -> None:
        if item.parent_item is not None:
            item.existing = None if item.parent_item.existing is None else self.children.get(
                (item.parent_item.existing.id, fold(item.name))
            )
            if item.parent_item.existing is not None:
                item.parent_unit, item.parent_item = item.parent_item.existing, None
        elif item.parent_unit is not None or not item.parent_text:
            parent_id = item.parent_unit.id if item.parent_unit is not None else None
            item.existing = self.children.get((parent_id, fold(item.name)))


def _parse(plan: ImportPlan) -> list[_Item]:
    items = []
    for row in plan.rows:
        values = row.values
        name, parent_text = clean(values.get("name")), clean(values.get("parent"))
        kind = parse_kind(values.get("kind", ""), has_parent=bool(parent_text))
        if not name:
            plan.fail(row, "name", _("Chưa ghi tên đơn vị."))
        elif len(name) > 200:
            plan.fail(row, "name", _("Tên đơn vị dài quá 200 ký tự."))
        if kind is None:
            written = clean(values.get("kind"))
            plan.fail(
                row, "kind",
                _("Cấp “%(k)s” không rõ; hãy ghi Tỉnh, Huyện, Xã, Phường, Thị trấn, Đặc khu, Ấp, Khu phố, Thôn, "
                  "Bản hoặc Doanh nghiệp.", k=written)
                if written else _("Chưa ghi cấp của đơn vị (Tỉnh, Xã, Phường, Ấp…)."),
            )
        code = clean(values.get("code")) or None
        if code is not None and len(code) > 20:
            plan.fail(row, "code", _("Mã đơn vị dài quá 20 ký tự."))
        items.append(_Item(row, name, kind, parent_text, code))
    return items


def _check(plan: ImportPlan, items: list[_Item], resolver: _Resolver) -> None:
    seen_places: dict[tuple[tuple[str, int], str], _Item] = {}
    seen_codes: dict[str, _Item] = {}
    for item in items:
        row = item.row
        parent_known = item.parent_unit is not None or item.parent_item is not None or not item.parent_text
        if item.name and parent_known:
            place = (item.place(), fold(item.name))
            if place in seen_places:
                first = seen_places[place]
                plan.fail(row, "name", _("Đơn vị “%(u)s” đã có ở dòng %(n)d.", u=item.name, n=first.row.number))
            else:
                seen_places[place] = item
        if item.code:
            first = seen_codes.setdefault(item.code, item)
            if first is not item:
                plan.fail(row, "code", _("Mã %(c)s đã có ở dòng %(n)d.", c=item.code, n=first.row.number))
        if item.existing is not None:
            _check_same(plan, item)
            continue
        if item.code and item.code in resolver.codes:
            plan.fail(
                row, "code",
                _("Mã đơn vị %(c)s đã được dùng cho “%(u)s”.", c=item.code, u=resolver.codes[item.code].name),
            )
        if item.parent_unit is not None and not item.parent_unit.active:
            plan.fail(row, "parent", _("Đơn vị cấp trên “%(p)s” đã ngừng hoạt động.", p=item.parent_unit.name))
        parent = item.parent_unit
        if item.parent_item is not None and item.parent_item.kind is not None:
            parent = Unit(name=item.parent_item.name, kind=item.parent_item.kind)  # never added to the session
        parent_known = parent is not None or not item.parent_text
        if item.kind is not None and parent_known:
            try:
                check_parent(item.kind, parent)
            except ValidationError as error:
                plan.fail(row, "parent" if item.parent_text else "kind", error.message)


def _check_same(plan: ImportPlan, item: _Item) -> None:
    """A row naming a unit that is already there must agree with it; then there is nothing to do."""
    unit = item.existing
    assert unit is not None
    row = item.row
    if item.kind is not None and unit.kind != item.kind:
        plan.fail(
            row, "kind",
            _(
                "Đã có “%(u)s” là %(old)s, khác với cấp “%(new)s” ghi trong tệp.",
                u=unit.name, old=kind_label(unit.kind).lower(), new=kind_label(item.kind).lower(),
            ),
        )
    if item.code and unit.code != item.code:
        plan.fail(
            row, "code",
            _("Đã có “%(u)s” với mã %(old)s, khác với mã %(new)s ghi trong tệp.",
              u=unit.name, old=unit.code or "—", new=item.code),
        )
    if row.status != RowStatus.ERROR:
        row.status = RowStatus.UNCHANGED


def import_units(rows: list[Row], dry_run: bool = False) -> ImportPlan:
    """Check every row against the tree in the database; unless ``dry_run``, write the new units when
    nothing is wrong (flushed, not committed: the caller commits). A plan with errors writes nothing."""
    plan = ImportPlan.from_rows(UNIT_COLUMNS, rows)
    items = _parse(plan)
    resolver = _Resolver(plan, items)
    for item in items:
        resolver.resolve(item)
    _check(plan, items, resolver)
    for item in items:
        if item.row.status == RowStatus.ERROR:
            continue
        kind = kind_label(item.kind) if item.kind else ""
        item.row.note = _("%(kind)s · thuộc %(p)s", kind=kind, p=item.parent_label) if item.parent_label else kind
    if dry_run or not plan.ok:
        return plan
    _write(resolver.order)
    plan.written = True
    return plan


def _write(order: list[_Item]) -> None:
    try:
        with db.session.begin_nested():
            for item in order:
                if item.existing is not None:
                    continue
                parent = item.parent_item.created if item.parent_item is not None else item.parent_unit
                try:
                    item.created = create_unit(item.name, item.kind, parent, item.code)
                except ValidationError as error:
                    raise ValidationError(error.message, field=error.field, row=item.row.number) from error
    except IntegrityError as error:
        raise ValidationError(_("Cây đơn vị vừa được người khác thay đổi; hãy xem trước và nhập lại.")) from error
