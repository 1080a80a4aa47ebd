"""Bulk import of members from CSV as Excel exports it, on the shared service: GBK or UTF-8
(with or without BOM), Chinese or English header, multipart or text/csv body; all-or-nothing
with every bad row reported by line; importing the same file twice changes nothing and
publishes nothing; a job resource shows progress. Every file names members of its own test."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import httpx
import pytest

from shared.events import MEMBER_REGISTERED

from .conftest import COMMUNITY_TOKEN, Env, id_number, unique

PHONE = "13812345678"


def chinese(ids: list[str], numbers: list[str]) -> str:
    """Three members as an Excel export with a Chinese header: one of them names its Party
    organisation by name, dates written three ways."""
    return (
        "序号,党员编号,姓名,类别,所属党组织,入党日期,手机号,身份证号,特长,居住社区\r\n"
        f"1,{ids[0]},张三,在职党员,P1,2001/7/1,{PHONE},{numbers[0]},法律咨询、理发,C1\r\n"
        f"2,{ids[1]},李四,离退休党员,市财政局机关党委,1985年10月1日,,,,\r\n"
        f"3,{ids[2]},王五,in_service,P1,2010-05-04,13900000000,{numbers[1]},,C2\r\n"
    )


def multipart(data: bytes, filename: str = "党员名册.csv") -> tuple[bytes, str]:
    boundary = "----partygridtestboundary"
    body = (
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


async def _import(
    client: httpx.AsyncClient, content: bytes, content_type: str = "text/csv"
) -> httpx.Response:
    return await client.post(
        "/v1/members/import",
        params={"wait": "true"},
        content=content,
        headers={"Content-Type": content_type},
    )


async def _outbox_about(service: Env, ids: list[str]) -> int:
    return await service.pool.fetchval(
        "SELECT count(*) FROM outbox WHERE key = ANY($1::bytea[])", [i.encode() for i in ids]
    )


async def _stored(service: Env, ids: list[str]) -> int:
    return await service.pool.fetchval(
        "SELECT count(*) FROM members WHERE member_id = ANY($1::text[])", ids
    )


@pytest.fixture(scope="module")
async def gbk_import(service: Env) -> tuple[list[str], list[str], bytes, str, dict[str, Any]]:
    """The Chinese file saved as GBK, sent as multipart, imported once for the module."""
    ids, numbers = [unique("M") for _ in range(3)], [id_number(), id_number()]
    body, ctype = multipart(chinese(ids, numbers).encode("gbk"))
    r = await _import(service.client, body, ctype)
    assert r.status_code == 200, r.text
    return ids, numbers, body, ctype, r.json()


async def test_a_gbk_file_with_a_chinese_header_is_imported(gbk_import: Any) -> None:
    *_, job = gbk_import
    assert job["status"] == "succeeded" and job["encoding"] == "gbk"
    assert (job["total"], job["processed"], job["created"]) == (3, 3, 3)


async def test_an_imported_row_is_read_as_excel_writes_it(service: Env, gbk_import: Any) -> None:
    ids, numbers, *_ = gbk_import
    m1 = (await service.client.get(f"/v1/members/{ids[0]}")).json()
    assert m1["name"] == "张三" and m1["category"] == "in_service"
    assert m1["joined_on"] == "2001-07-01" and m1["skills"] == ["法律咨询", "理发"]
    assert m1["id_number"] == numbers[0] and m1["address_community_id"] == "C1"
    m2 = (await service.client.get(f"/v1/members/{ids[1]}")).json()
    assert m2["category"] == "retired" and m2["joined_on"] == "1985-10-01"


async def test_an_organisation_may_be_named_instead_of_its_id(
    service: Env, gbk_import: Any
) -> None:
    ids, *_ = gbk_import
    assert (await service.client.get(f"/v1/members/{ids[1]}")).json()["party_org_id"] == "P1"


async def test_the_same_file_again_changes_and_publishes_nothing(
    service: Env, gbk_import: Any
) -> None:
    ids, _, body, ctype, _ = gbk_import
    before = await _outbox_about(service, ids)
    again = await _import(service.client, body, ctype)
    assert again.status_code == 200
    job = again.json()
    assert (job["unchanged"], job["created"], job["updated"]) == (3, 0, 0)
    assert await _outbox_about(service, ids) == before


async def test_an_english_header_in_utf8_with_bom_creates_and_updates(service: Env) -> None:
    known, new = unique("M"), unique("M")
    assert (await service.register(known, category="retired")).status_code == 201
    english = (
        "member_id,name,category,party_org_id,joined_on,phone,id_number\n"
        f"{known},李四,resident,P1,1985-10-01,,\n"
        f"{new},赵六,mobile,P1,,,\n"
    )
    r = await _import(service.client, b"\xef\xbb\xbf" + english.encode())
    assert r.status_code == 200, r.text
    assert r.json()["encoding"] == "utf-8-sig"
    assert (r.json()["created"], r.json()["updated"]) == (1, 1)
    assert (await service.client.get(f"/v1/members/{known}")).json()["category"] == "resident"
    assert await _outbox_about(service, [known, new]) == 3  # the registration and two imported


async def test_any_bad_row_is_reported_by_line_and_nothing_is_written(service: Env) -> None:
    taken = id_number()
    assert (await service.register(unique("M"), id_number=taken)).status_code == 201
    ids = [unique("M") for _ in range(7)]
    bad = (
        "党员编号,姓名,类别,所属党组织,入党日期,手机号,身份证号\n"
        f"{ids[0]},好人,在职党员,P1,2001-07-01,,\n"
        f"{ids[1]},,在职党员,P1,,,\n"
        f"{ids[2]},钱七,荣誉党员,P1,,,\n"
        f"{ids[3]},孙八,在职党员,NOPE,,,\n"
        f"{ids[4]},周九,在职党员,P1,2001-13-45,12345,110105194912310021\n"
        f"{ids[0]},重复,在职党员,P1,,,\n"
        f"{ids[5]},吴十,在职党员,P1,,,{taken}\n"
        f"{ids[6]},郑一,在职党员,P1,,,1.10105E+17\n"
    )
    r = await _import(service.client, bad.encode())
    assert r.status_code == 422, r.text
    problems = {(d["line"], d["field"]) for d in r.json()["details"]}
    assert problems == {
        (3, "name"),
        (4, "category"),
        (5, "party_org_id"),
        (6, "joined_on"),
        (6, "phone"),
        (6, "id_number"),
        (7, "member_id"),
        (8, "id_number"),
        (9, "id_number"),
    }
    assert all(d["rule"] for d in r.json()["details"])
    assert "110105194912310021" not in r.text and taken not in r.text
    assert await _stored(service, ids) == 0 and await _outbox_about(service, ids) == 0
    assert (await service.client.get(f"/v1/members/{ids[0]}")).status_code == 404


async def test_a_file_without_the_required_columns_names_them(service: Env) -> None:
    r = await _import(service.client, "姓名,类别\n张三,在职党员\n".encode())
    assert r.status_code == 422
    assert {d["field"] for d in r.json()["details"]} == {"member_id", "party_org_id"}


async def test_a_body_that_is_not_csv_is_refused_as_unsupported(service: Env) -> None:
    r = await service.client.post(
        "/v1/members/import", content=b"{}", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 415 and r.json()["details"][0]["field"]


async def test_only_a_city_admin_may_import(service: Env) -> None:
    member = unique("M")
    text = f"member_id,name,category,party_org_id\n{member},赵六,mobile,P1\n"
    async with service.as_token(COMMUNITY_TOKEN) as scoped:
        r = await scoped.post(
            "/v1/members/import", content=text.encode(), headers={"Content-Type": "text/csv"}
        )
    assert r.status_code == 403
    assert await _stored(service, [member]) == 0


async def test_an_import_publishes_names_but_never_personal_data(
    service: Env, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ids, numbers = [unique("M") for _ in range(3)], [id_number(), id_number()]
    name = f"张三{uuid.uuid4().hex[:6]}"
    body, ctype = multipart(chinese(ids, numbers).replace("张三", name).encode("gbk"))
    assert (await _import(service.client, body, ctype)).status_code == 200
    assert len(await service.events_about(MEMBER_REGISTERED, ids[0])) == 1
    on_broker = await service.broker_bytes()
    assert name.encode() in on_broker  # the name is published, personal data is not
    assert "/v1/members" in caplog.text  # the logs were captured: the check below means something
    for secret in (PHONE, *numbers, "13900000000"):
        assert secret.encode() not in on_broker
        assert secret not in caplog.text


async def test_a_large_import_is_a_job_whose_progress_never_goes_back(service: Env) -> None:
    rows, prefix = 1800, unique("L")
    text = "member_id,name,category,party_org_id\n" + "".join(
        f"{prefix}-{i:05d},党员{i},retired,P1\n" for i in range(rows)
    )
    r = await service.client.post(
        "/v1/members/import", content=text.encode(), headers={"Content-Type": "text/csv"}
    )
    assert r.status_code == 202, r.text
    location = r.headers["Location"]
    seen: list[tuple[str, int]] = []
    while True:
        job = (await service.client.get(location)).json()
        seen.append((job["status"], job["processed"]))
        if job["status"] in ("succeeded", "failed"):
            break
        await asyncio.sleep(0.02)
    assert job["status"] == "succeeded", job
    assert job["total"] == rows and job["processed"] == rows and job["created"] == rows
    progress = [p for _, p in seen]
    assert progress == sorted(progress)  # never goes back
    like = prefix + "-%"
    stored = await service.pool.fetchval(
        "SELECT count(*) FROM members WHERE member_id LIKE $1", like
    )
    published = await service.pool.fetchval(
        "SELECT count(*) FROM outbox WHERE topic = $1 AND convert_from(key, 'UTF8') LIKE $2",
        MEMBER_REGISTERED,
        like,
    )
    assert (stored, published) == (rows, rows)


async def test_an_unknown_import_job_is_not_found(service: Env) -> None:
    assert (await service.client.get("/v1/members/import/not-a-job")).status_code == 404
    missing = f"/v1/members/import/{uuid.uuid4()}"
    assert (await service.client.get(missing)).status_code == 404
