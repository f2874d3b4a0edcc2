"""What the API tests share: a client that checks every answer against the OpenAPI document the
server serves (status listed, content type, body valid by the schema), and reports submitted the
way the reporting app submits them, waited for until they are cases."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from console.openapi import document
from tests.support import eventually

REPORTS = "/api/v1/reports"
SARPRAS = "AC di ruang kelas rusak dan proyektor mati sejak seminggu"
PPKPT = "Saya mengalami pelecehan seksual oleh dosen pembimbing"
TIK = "Wifi kampus tidak bisa login di gedung A"


def checked_document() -> dict[str, Any]:
    spec = document()
    validate(spec)
    return spec


@dataclass
class Answer:
    status: int
    body: Any
    headers: Mapping[str, str]


@dataclass
class Api:
    """Requests by path template (``/api/v1/cases/{tracking_number}``), each answer checked."""

    http: aiohttp.ClientSession
    headers: dict[str, str] = field(default_factory=dict)
    spec: dict[str, Any] = field(default_factory=checked_document)
    checked: list[tuple[str, str, int]] = field(default_factory=list)

    async def call(
        self,
        method: str,
        template: str,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        url = template.format(**(path or {}))
        sent = {**self.headers, **(headers or {})}
        async with self.http.request(
            method, url, params=params, json=json, data=data, headers=sent, allow_redirects=False
        ) as response:
            raw = await response.read()
            kind = response.content_type
            body: Any = await response.json() if kind == "application/json" else raw
            answer = Answer(response.status, body, dict(response.headers))
        self.check(method, template, answer, kind)
        return answer

    def check(self, method: str, template: str, answer: Answer, kind: str) -> None:
        operation = self.spec["paths"][template][method.lower()]
        listed = operation["responses"].get(str(answer.status))
        assert listed is not None, f"{method} {template} answered {answer.status}, not in the document: {answer.body!r}"
        content = listed.get("content")
        if content is None:
            return
        assert kind in content or "*/*" in content, f"{method} {template} {answer.status}: {kind}, not {list(content)}"
        if kind == "application/json":
            schema = {**content[kind]["schema"], "components": self.spec["components"]}
            validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
            errors = sorted(validator.iter_errors(answer.body), key=lambda e: list(e.path))
            assert not errors, f"{method} {template} {answer.status}: {errors[0].message} at {list(errors[0].path)}"
        self.checked.append((method, template, answer.status))

    async def get(self, template: str, **kwargs: Any) -> Answer:
        return await self.call("GET", template, **kwargs)

    async def post(self, template: str, **kwargs: Any) -> Answer:
        return await self.call("POST", template, **kwargs)

    async def act(self, number: str, action: str, fields: Any = None, **kwargs: Any) -> Answer:
        return await self.post(
            "/api/v1/cases/{tracking_number}/actions/{action}",
            path={"tracking_number": number, "action": action},
            json=fields if fields is not None else {},
            **kwargs,
        )

    async def case(self, number: str) -> Answer:
        return await self.get("/api/v1/cases/{tracking_number}", path={"tracking_number": number})


@dataclass(frozen=True)
class Report:
    report_id: str
    tracking_number: str


async def report(public: Api, text: str, **fields: Any) -> Report:
    """A report submitted on the web form's API, once triage made it a case."""
    sent = {"name": "Rina Wulandari", "phone": "+6281234567890", "text": text, **fields}
    accepted = await public.post(REPORTS, json=sent)
    assert accepted.status == 202, accepted.body
    report_id = accepted.body["id"]

    async def registered() -> str | None:
        answer = await public.get(REPORTS + "/{report_id}", path={"report_id": report_id})
        return answer.body["tracking_number"] if answer.status == 200 else None

    number = await eventually(registered)
    return Report(report_id, number)


async def messages_to_reporter(public: Api, sent: Report) -> list[dict[str, Any]]:
    """What the reporter reads on the report's status resource (the web form's channel)."""
    answer = await public.get(REPORTS + "/{report_id}", path={"report_id": sent.report_id})
    assert answer.status == 200
    return list(answer.body["messages"])
