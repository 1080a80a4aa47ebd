"""What the operators require of the custom resources deploy/kubernetes uses, checked offline.

Written from the operators' CustomResourceDefinitions (their openAPIV3Schema: required fields,
types, bounds, the fields a spec may have) and from the rules their controllers and webhooks
add on top (noted where they apply): Strimzi `KafkaTopic` (kafka.strimzi.io/v1), CloudNativePG
`Cluster` (postgresql.cnpg.io/v1), Prometheus Operator `ServiceMonitor` and `PrometheusRule`
(monitoring.coreos.com/v1). Only the parts these manifests touch are spelled out; a spec field
not listed for its kind is an error, so a typo cannot pass as an ignored field.
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema

DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DURATION = (
    r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"
)
KAFKA_TOPIC_NAME = r"^[a-zA-Z0-9._-]{1,249}$"


def _object(required: list[str], properties: dict[str, Any], closed: bool = True) -> dict:
    schema: dict[str, Any] = {"type": "object", "required": required, "properties": properties}
    if closed:
        schema["additionalProperties"] = False
    return schema


def _resource(api_version: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    metadata = _object(
        ["name"],
        {"name": {"type": "string", "maxLength": 253, "pattern": DNS_SUBDOMAIN}},
        closed=False,
    )
    return _object(
        ["apiVersion", "kind", "metadata", "spec"],
        {
            "apiVersion": {"const": api_version},
            "kind": {"const": kind},
            "metadata": metadata,
            "spec": spec,
        },
    )


_QUANTITY = {"type": "string", "pattern": r"^[0-9.]+(m|Ki|Mi|Gi|Ti|k|M|G|T)?$"}
_RESOURCES = _object(
    [],
    {
        "requests": {"type": "object", "additionalProperties": _QUANTITY},
        "limits": {"type": "object", "additionalProperties": _QUANTITY},
    },
)

SCHEMAS: dict[str, dict[str, Any]] = {
    # Strimzi 1.0 serves KafkaTopic only as v1, where `spec` is required.
    "KafkaTopic": _resource(
        "kafka.strimzi.io/v1",
        "KafkaTopic",
        _object(
            [],
            {
                "topicName": {"type": "string", "pattern": KAFKA_TOPIC_NAME},
                "partitions": {"type": "integer", "minimum": 1},
                "replicas": {"type": "integer", "minimum": 1, "maximum": 32767},
                "config": {"type": "object"},
            },
        ),
    ),
    "Cluster": _resource(
        "postgresql.cnpg.io/v1",
        "Cluster",
        _object(
            ["instances"],
            {
                "instances": {"type": "integer", "minimum": 1},
                "imageName": {"type": "string"},
                "bootstrap": _object(
                    [],
                    {
                        "initdb": _object(
                            [],
                            {
                                "database": {"type": "string"},
                                "owner": {"type": "string"},
                                "secret": _object(["name"], {"name": {"type": "string"}}),
                            },
                        )
                    },
                ),
                "storage": _object(
                    [],
                    {
                        "size": _QUANTITY,
                        "storageClass": {"type": "string"},
                        "resizeInUseVolumes": {"type": "boolean"},
                    },
                ),
                "resources": _RESOURCES,
                "postgresql": _object(
                    [],
                    {"parameters": {"type": "object", "additionalProperties": {"type": "string"}}},
                ),
                "affinity": _object(
                    [],
                    {
                        "enablePodAntiAffinity": {"type": "boolean"},
                        "topologyKey": {"type": "string"},
                        "podAntiAffinityType": {"enum": ["preferred", "required"]},
                    },
                ),
                "enableSuperuserAccess": {"type": "boolean"},
                "primaryUpdateStrategy": {"enum": ["unsupervised", "supervised"]},
            },
        ),
    ),
    "ServiceMonitor": _resource(
        "monitoring.coreos.com/v1",
        "ServiceMonitor",
        _object(
            ["endpoints", "selector"],
            {
                "jobLabel": {"type": "string"},
                "selector": _object(
                    [],
                    {
                        "matchLabels": {
                            "type": "object",
                            "additionalProperties": {"type": "string"},
                        },
                        "matchExpressions": {"type": "array"},
                    },
                ),
                "namespaceSelector": {"type": "object"},
                "endpoints": {
                    "type": "array",
                    "minItems": 1,
                    "items": _object(
                        [],
                        {
                            "port": {"type": "string"},
                            "path": {"type": "string", "pattern": "^/"},
                            "scheme": {"enum": ["http", "https", "HTTP", "HTTPS"]},
                            "interval": {"type": "string", "pattern": DURATION},
                            "scrapeTimeout": {"type": "string", "pattern": DURATION},
                            "honorLabels": {"type": "boolean"},
                        },
                    ),
                },
            },
        ),
    ),
    "PrometheusRule": _resource(
        "monitoring.coreos.com/v1",
        "PrometheusRule",
        _object(
            [],
            {
                "groups": {
                    "type": "array",
                    "items": _object(
                        ["name"],
                        {
                            "name": {"type": "string", "minLength": 1},
                            "interval": {"type": "string", "pattern": DURATION},
                            "labels": {"type": "object"},
                            "rules": {
                                "type": "array",
                                "items": _object(
                                    ["expr"],
                                    {
                                        "alert": {"type": "string"},
                                        "record": {"type": "string"},
                                        "expr": {"type": ["string", "integer"]},
                                        "for": {"type": "string", "pattern": DURATION},
                                        "keep_firing_for": {"type": "string", "pattern": DURATION},
                                        "labels": {
                                            "type": "object",
                                            "additionalProperties": {"type": "string"},
                                        },
                                        "annotations": {
                                            "type": "object",
                                            "additionalProperties": {"type": "string"},
                                        },
                                    },
                                ),
                            },
                        },
                    ),
                }
            },
        ),
    ),
}


def _operator_rules(doc: dict[str, Any]) -> list[str]:
    """Rules the controllers and webhooks enforce beyond the CRD schema."""
    kind, spec, meta = doc["kind"], doc["spec"], doc["metadata"]
    problems = []
    if kind == "KafkaTopic":
        # the topic operator reconciles only topics labelled with their Kafka cluster
        if not meta.get("labels", {}).get("strimzi.io/cluster"):
            problems.append("no strimzi.io/cluster label: no topic operator picks it up")
        topic = spec.get("topicName", meta["name"])
        if not re.match(KAFKA_TOPIC_NAME, topic):
            problems.append(f"{topic!r} is not a valid Kafka topic name")
        config = spec.get("config", {})
        isr = config.get("min.insync.replicas")
        if isr is not None and not 1 <= int(isr) <= spec.get("replicas", 1):
            problems.append("min.insync.replicas must lie between 1 and replicas")
    elif kind == "Cluster":
        # the CloudNativePG webhook: a volume size (or a PVC template) is mandatory, and
        # initdb's database and owner are given together or not at all
        if not spec.get("storage", {}).get("size"):
            problems.append("storage.size is required")
        initdb = spec.get("bootstrap", {}).get("initdb", {})
        if bool(initdb.get("database")) != bool(initdb.get("owner")):
            problems.append("bootstrap.initdb needs both database and owner")
        if len(spec.get("bootstrap", {})) > 1:
            problems.append("only one bootstrap method may be given")
    elif kind == "PrometheusRule":
        names = [g["name"] for g in spec.get("groups", [])]
        if len(names) != len(set(names)):
            problems.append("group names must be unique")
        for group in spec.get("groups", []):
            for rule in group.get("rules", []):
                if ("alert" in rule) == ("record" in rule):
                    problems.append(f"a rule needs exactly one of alert and record: {rule}")
    return problems


def check_custom_resource(doc: dict[str, Any]) -> list[str]:
    """Problems with `doc` (a custom resource of a kind in SCHEMAS); empty when none."""
    schema = SCHEMAS.get(doc.get("kind", ""))
    if schema is None:
        return [f"no operator schema for kind {doc.get('kind')!r}"]
    validator = jsonschema.Draft202012Validator(schema)
    problems = [
        f"{'/'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(doc)
    ]
    return problems or _operator_rules(doc)
