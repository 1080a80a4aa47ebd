"""Parsing a member list exported from Excel as CSV (pure: bytes in, rows and errors out).

Excel on a Chinese desktop saves CSV as GBK ("CSV (逗号分隔)") or UTF-8 with a BOM
("CSV UTF-8"); both are accepted, and so is plain UTF-8. The header row may be Chinese or
English. Every bad row is reported with its line number, the field and the rule it breaks; the
caller writes nothing unless there are no errors at all (all-or-nothing). An empty optional
cell (or a missing optional column) leaves the stored value as it is: an import adds and
corrects, it never erases.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from shared.events.types import ID_PATTERN, MemberCategory

from .identity import PersonalDataError, normalize_id_number, normalize_phone
from .rules import parse_category

HEADERS: dict[str, str] = {
    "member_id": "member_id",
    "党员编号": "member_id",
    "编号": "member_id",
    "name": "name",
    "姓名": "name",
    "category": "category",
    "类别": "category",
    "党员类别": "category",
    "party_org_id": "party_org_id",
    "所属党组织": "party_org_id",
    "所属党组织编号": "party_org_id",
    "党组织编号": "party_org_id",
    "joined_on": "joined_on",
    "入党日期": "joined_on",
    "入党时间": "joined_on",
    "phone": "phone",
    "手机号": "phone",
    "手机号码": "phone",
    "联系电话": "phone",
    "id_number": "id_number",
    "身份证号": "id_number",
    "身份证号码": "id_number",
    "公民身份号码": "id_number",
    "skills": "skills",
    "特长": "skills",
    "技能特长": "skills",
    "address_community_id": "address_community_id",
    "居住社区": "address_community_id",
    "居住社区编号": "address_community_id",
}
IGNORED_HEADERS = {"序号", "备注", "no", "remark", "remarks"}
REQUIRED = ("member_id", "name", "category", "party_org_id")
_ID = re.compile(ID_PATTERN)
_SKILL_SPLIT = re.compile(r"[;；,，、|/]")
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+\d+$", re.IGNORECASE)


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    rule: str

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "field": self.field, "rule": self.rule}


@dataclass(frozen=True)
class ImportRow:
    line: int
    member_id: str
    name: str
    category: MemberCategory
    party_org_id: str  # an id, or an organisation's exact name (resolved by the use case)
    joined_on: date | None = None
    phone: str | None = None
    id_number: str | None = None
    skills: tuple[str, ...] | None = None
    address_community_id: str | None = None


@dataclass
class ParsedFile:
    encoding: str
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def decode(raw: bytes) -> tuple[str, str]:
    """Text and encoding name: UTF-8 (with or without BOM), else GBK (read as GB18030, its
    superset). Raises ValueError if it is neither."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030"), "gbk"
    except UnicodeDecodeError:
        raise ValueError("the file is neither UTF-8 nor GBK text; save it as CSV") from None


def parse_date(raw: str) -> date:
    value = raw.strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError("must be a date like 2001-07-01, 2001/7/1 or 2001年7月1日")


def parse_csv(raw: bytes, *, today: date | None = None) -> ParsedFile:
    today = today or date.today()
    try:
        text, encoding = decode(raw)
    except ValueError as exc:
        return ParsedFile("unknown", errors=[RowError(1, "file", str(exc))])
    result = ParsedFile(encoding)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        result.errors.append(RowError(1, "file", "the file is empty; a header row is required"))
        return result
    except csv.Error as exc:
        result.errors.append(RowError(1, "file", f"not valid CSV: {exc}"))
        return result
    columns: list[str | None] = []
    for i, name in enumerate(header):
        key = name.strip().lstrip("\ufeff")
        mapped = HEADERS.get(key) or HEADERS.get(key.lower())
        if mapped is None and key.lower() not in IGNORED_HEADERS and key:
            result.errors.append(
                RowError(
                    1,
                    f"column {i + 1}",
                    f"unknown column {key!r}; accepted: "
                    "党员编号,姓名,类别,所属党组织,入党日期,手机号,身份证号,特长,居住社区 "
                    "or member_id,name,category,party_org_id,joined_on,phone,id_number,"
                    "skills,address_community_id",
                )
            )
        if mapped is not None and mapped in columns:
            result.errors.append(RowError(1, mapped, f"column {key!r} appears twice"))
        columns.append(mapped)
    missing = [c for c in REQUIRED if c not in columns]
    for c in missing:
        result.errors.append(RowError(1, c, "required column is missing from the header row"))
    if result.errors:
        return result
    seen_members: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    line = reader.line_num
    while True:
        start = line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.errors.append(RowError(start, "file", f"not valid CSV: {exc}"))
            break
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
            result.errors.append(RowError(start, "row", "more cells than header columns"))
            continue
        values = {
            col: (cells[i].strip() if i < len(cells) else "")
            for i, col in enumerate(columns)
            if col
        }
        row, errors = _row(start, values, today)
        if row is not None:
            if row.member_id in seen_members:
                errors.append(
                    RowError(start, "member_id", f"duplicate of line {seen_members[row.member_id]}")
                )
            seen_members.setdefault(row.member_id, start)
            if row.id_number:
                other = seen_ids.get(row.id_number)
                if other is not None:
                    errors.append(
                        RowError(start, "id_number", f"the same ID number is on line {other}")
                    )
                seen_ids.setdefault(row.id_number, start)
        if errors:
            result.errors.extend(errors)
        elif row is not None:
            result.rows.append(row)
    return result


def _row(line: int, v: dict[str, str], today: date) -> tuple[ImportRow | None, list[RowError]]:
    errors: list[RowError] = []
    for key in REQUIRED:
        if not v.get(key):
            errors.append(RowError(line, key, "is required"))
    for key in ("member_id", "address_community_id"):
        if v.get(key) and not _ID.match(v[key]):
            errors.append(RowError(line, key, "must be 1-64 characters of A-Z a-z 0-9 _ . -"))
    if len(v.get("name", "")) > 100:
        errors.append(RowError(line, "name", "must be at most 100 characters"))
    category = parse_category(v["category"]) if v.get("category") else None
    if v.get("category") and category is None:
        errors.append(
            RowError(
                line,
                "category",
                "must be in_service/resident/mobile/retired "
                "(or 在职党员/居民党员/流动党员/离退休党员)",
            )
        )
    joined: date | None = None
    if v.get("joined_on"):
        try:
            joined = parse_date(v["joined_on"])
            if joined > today:
                errors.append(RowError(line, "joined_on", "must not be in the future"))
        except ValueError as exc:
            errors.append(RowError(line, "joined_on", str(exc)))
    phone = id_number = None
    if v.get("phone"):
        try:
            phone = normalize_phone(v["phone"])
        except PersonalDataError as exc:
            errors.append(RowError(line, "phone", exc.rule))
    if v.get("id_number"):
        if _SCIENTIFIC.match(v["id_number"]):
            errors.append(
                RowError(
                    line,
                    "id_number",
                    "Excel turned it into a number "
                    "(scientific notation); format the column as text",
                )
            )
        else:
            try:
                id_number = normalize_id_number(v["id_number"], today=today)
            except PersonalDataError as exc:
                errors.append(RowError(line, "id_number", exc.rule))
    skills: tuple[str, ...] | None = None
    if v.get("skills"):
        skills = tuple(s.strip() for s in _SKILL_SPLIT.split(v.get("skills", "")) if s.strip())
        if len(skills) > 50 or any(len(s) > 100 for s in skills):
            errors.append(RowError(line, "skills", "at most 50 skills of 100 characters each"))
    if errors:
        return None, errors
    assert category is not None
    return ImportRow(
        line=line,
        member_id=v["member_id"],
        name=v["name"],
        category=category,
        party_org_id=v["party_org_id"],
        joined_on=joined,
        phone=phone,
        id_number=id_number,
        skills=skills,
        address_community_id=v.get("address_community_id") or None,
    ), []
