"""The event contracts (AsyncAPI 3, docs/asyncapi/) match the code: a fresh generation equals
the committed files; every channel is a real topic with its registered CloudEvent; each service
documents what it consumes and what its use cases really publish; the README's example messages
validate; and a running service serves the same document (and a readable page) without a token.
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import json
import pkgutil
import re
from pathlib import Path
from typing import Any

import shared.events
from dev.testing import running_app
from shared.asyncapi import published_topics
from shared.events import DEADLETTER_TOPIC, EVENT_TYPES, parse_envelope, validate_data
from shared.events.examples import EXAMPLES
from shared.events.kafka_binding import REQUIRED_HEADERS, decode_event
from shared.events.satisfaction import SATISFACTION_RATED
from tools import asyncapi as tool

SERVICES = tool.SERVICES


def committed(service: str) -> dict[str, Any]:
    return json.loads((tool.DOCS / f"{service}.json").read_text())


def consumes(service: str) -> set[str]:
    return set(importlib.import_module(f"services.{service}.handlers").CONSUMES)


def resolve(node: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = doc
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def test_committed_documents_and_readme_section_match_the_code() -> None:
    stale = [
        str(path.relative_to(tool.ROOT))
        for path, text in tool.expected_files().items()
        if not path.exists() or path.read_text() != text
    ]
    assert not stale, f"out of date, run `make asyncapi`: {stale}"


def test_channels_are_real_topics_with_their_cloudevent() -> None:
    for service in SERVICES:
        doc = committed(service)
        assert doc["asyncapi"] == "3.0.0"
        receives = tool.operations(doc, "receive")
        sends = tool.operations(doc, "send")
        assert set(receives) == consumes(service), service
        assert set(sends) >= {DEADLETTER_TOPIC}, service
        read_channels = {
            op["channel"]["$ref"].split("/")[-1]
            for op in doc["operations"].values()
            if op["action"] == "receive"
        }
        for name, channel in doc["channels"].items():
            topic = channel["address"]
            assert topic in EVENT_TYPES, (service, topic)
            messages = dict(channel["messages"])
            binary = messages.pop("BinaryMessage", None)
            assert (binary is not None) == (name in read_channels), (service, topic)
            if binary is not None:
                _check_binary_mode(resolve(binary, doc), topic, doc)
            (message,) = messages.values()
            payload = resolve(resolve(message, doc)["payload"], doc)
            spec = EVENT_TYPES[topic]
            assert payload["title"] == f"{spec.model.__name__}Event"
            assert payload["properties"]["type"]["const"] == topic
            assert payload["properties"]["specversion"]["const"] == "1.0"
            assert {"specversion", "id", "source", "type", "time", "data"} <= set(
                payload["required"]
            )
            data = resolve(payload["properties"]["data"], doc)
            assert data["title"] == spec.model.__name__
            # the data schema is the registered model's, field descriptions included
            assert set(data["properties"]) == set(spec.model.model_fields)
            assert all(
                "description" in field or "$ref" in field or "allOf" in field
                for field in data["properties"].values()
            ), (topic, data)
            (example,) = payload["examples"]
            assert example == EXAMPLES[topic]
            validate_data(parse_envelope(json.dumps(example).encode()), topic)


def _check_binary_mode(message: dict[str, Any], topic: str, doc: dict[str, Any]) -> None:
    """A topic a service reads also documents the binary content mode: the attributes as
    ce_* headers, the data schema alone as the payload; its example decodes to the
    structured example's event."""
    headers = message["headers"]
    assert set(REQUIRED_HEADERS) <= set(headers["required"])
    assert headers["properties"]["ce_type"]["const"] == topic
    assert headers["properties"]["content-type"]["const"] == "application/json"
    payload = resolve(message["payload"], doc)
    assert payload["title"] == EVENT_TYPES[topic].model.__name__
    (example,) = message["examples"]
    raw_headers = [(k, v.encode()) for k, v in example["headers"].items()]
    event = decode_event(raw_headers, json.dumps(example["payload"]).encode())
    assert event == parse_envelope(json.dumps(EXAMPLES[topic]).encode())


# event builders in shared/ that a service calls, and the type each one builds
SHARED_BUILDERS = {"rated_event": SATISFACTION_RATED}


def _published_by_code(service: str) -> set[str]:
    """Event-type constants passed to an event-building call (new_event, _event, ...) in the
    service's code other than its consumer (handlers.py), found by reading the source."""
    constants = {
        name: value
        for module in pkgutil.iter_modules(shared.events.__path__)
        for name, value in vars(importlib.import_module(f"shared.events.{module.name}")).items()
        if name.isupper() and isinstance(value, str) and value in EVENT_TYPES
    }
    found = set()
    for path in Path(tool.ROOT, "services", service).rglob("*.py"):
        if path.name == "handlers.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if "event" not in name:
                continue
            if name in SHARED_BUILDERS:
                found.add(SHARED_BUILDERS[name])
            args = [*node.args, *(k.value for k in node.keywords)]
            found |= {
                constants[a.id] for a in args if isinstance(a, ast.Name) and a.id in constants
            }
    return found


def test_each_service_declares_what_its_code_publishes() -> None:
    for service in SERVICES:
        sends = set(tool.operations(committed(service), "send"))
        by_code = _published_by_code(service)
        assert by_code, service
        assert sends == set(published_topics(sorted(consumes(service)), sorted(by_code))), (
            service,
            sorted(sends ^ by_code),
        )


def readme_examples() -> list[dict[str, Any]]:
    readme = tool.README.read_text()
    section = readme[readme.index(tool.BEGIN) : readme.index(tool.END)]
    (block,) = re.findall(r"```json\n(.*?)\n```", section, flags=re.S)
    return [json.loads(line) for line in block.splitlines()]


def test_readme_has_one_valid_example_message_per_topic() -> None:
    examples = readme_examples()
    assert [e["type"] for e in examples] == sorted(EVENT_TYPES)
    for raw in examples:
        event = parse_envelope(json.dumps(raw, ensure_ascii=False).encode())
        data = validate_data(event, topic=event.type)
        spec = EVENT_TYPES[event.type]
        if spec.key_field:
            assert event.subject == getattr(data, spec.key_field), event.type


async def _serves_its_document(service: str, settings: Any, bootstrap: str) -> None:
    app = importlib.import_module(f"services.{service}.main").create_app(settings)
    async with running_app(app, token=None) as http:  # no token: public like /docs
        served = (await http.get("/asyncapi.json")).json()
        assert [s["host"] for s in served["servers"].values()] == [bootstrap]
        assert {**served, "servers": committed(service)["servers"]} == committed(service)

        page = await http.get("/asyncapi")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        text = page.text
        assert "<script" not in text and "http://" not in text and "https://" not in text
        for channel in served["channels"].values():
            assert f"<code>{channel['address']}</code>" in text
        # every operation with its message's fields and example
        assert text.count("<p>Example:</p>") == len(served["operations"])
        assert text.count("<code>data.") >= len(served["operations"])


async def test_running_services_serve_their_documents(settings_for: Any, kafka: Any) -> None:
    # started side by side: each waits a few seconds for its consumer group
    await asyncio.gather(
        *(_serves_its_document(s, settings_for(s), kafka.bootstrap) for s in SERVICES)
    )
