"""`kustomize build` for the subset deploy/kubernetes uses, in Python, so `make test` renders
the overlay without a kustomize binary (no Debian package has one).

Supported kustomization fields: `resources` (files, or folders with a kustomization.yaml),
`namespace`, `labels` (`pairs`, `includeSelectors`, `includeTemplates`), `commonLabels`,
`images` (`name`, `newName`, `newTag`, `digest`), `replicas` (`name`, `count`) and `patches`
as strategic-merge patches (`path` or inline `patch`, the target named by the patch's own kind
and metadata.name, or by `target`; `$patch: delete` removes the target). Lists of objects that all carry a `name` are merged by
name, as Kubernetes' strategic merge does for containers, env, volumes and ports; other lists
are replaced. Anything else in a kustomization is refused, so the renderer never silently
differs from kustomize.

    .venv/bin/python -m tools.kustomize deploy/kubernetes/overlays/example > rendered.yaml
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import yaml

KNOWN = {
    "apiVersion",
    "kind",
    "resources",
    "namespace",
    "labels",
    "commonLabels",
    "images",
    "replicas",
    "patches",
}
CLUSTER_SCOPED = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"}
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}


class KustomizeError(ValueError):
    pass


def build(folder: Path) -> list[dict[str, Any]]:
    """The resources `kustomize build folder` would print, in resource order."""
    path = folder / "kustomization.yaml"
    if not path.is_file():
        raise KustomizeError(f"{folder} has no kustomization.yaml")
    spec = yaml.safe_load(path.read_text()) or {}
    unknown = set(spec) - KNOWN
    if unknown:
        raise KustomizeError(f"{path}: unsupported fields {sorted(unknown)}")
    docs: list[dict[str, Any]] = []
    for entry in spec.get("resources", []):
        target = (folder / entry).resolve()
        if target.is_dir():
            docs.extend(build(target))
        elif target.is_file():
            docs.extend(d for d in yaml.safe_load_all(target.read_text()) if d)
        else:
            raise KustomizeError(f"{path}: resource {entry} not found")
    _check_unique(docs, path)
    for patch in spec.get("patches", []):
        _apply_patch(docs, patch, folder)
    for item in spec.get("replicas", []):
        _set_replicas(docs, item["name"], int(item["count"]))
    for image in spec.get("images", []):
        _set_image(docs, image)
    if spec.get("commonLabels"):
        _add_labels(docs, spec["commonLabels"], selectors=True, templates=True)
    for group in spec.get("labels", []):
        selectors = bool(group.get("includeSelectors", False))
        templates = bool(group.get("includeTemplates", False)) or selectors
        _add_labels(docs, group["pairs"], selectors=selectors, templates=templates)
    if spec.get("namespace"):
        for doc in docs:
            if doc["kind"] not in CLUSTER_SCOPED:
                doc.setdefault("metadata", {})["namespace"] = spec["namespace"]
    return docs


def _key(doc: dict[str, Any]) -> tuple[str, str]:
    return doc["kind"], doc["metadata"]["name"]


def _check_unique(docs: list[dict[str, Any]], where: Path) -> None:
    seen: set[tuple[str, str]] = set()
    for doc in docs:
        if _key(doc) in seen:
            raise KustomizeError(f"{where}: {_key(doc)} defined twice")
        seen.add(_key(doc))


def merge(base: Any, patch: Any) -> Any:
    """Strategic merge of `patch` onto `base` (a null in the patch deletes the key)."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            if value is None:
                out.pop(key, None)
            elif key in out:
                out[key] = merge(out[key], value)
            else:
                out[key] = copy.deepcopy(value)
        return out
    if isinstance(base, list) and isinstance(patch, list) and _named(base) and _named(patch):
        out_list = list(base)
        index = {item["name"]: i for i, item in enumerate(out_list)}
        for item in patch:
            if item["name"] in index:
                out_list[index[item["name"]]] = merge(out_list[index[item["name"]]], item)
            else:
                out_list.append(copy.deepcopy(item))
        return out_list
    return copy.deepcopy(patch)


def _named(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(i, dict) and "name" in i for i in items)


def _apply_patch(docs: list[dict[str, Any]], entry: dict[str, Any], folder: Path) -> None:
    if "path" in entry:
        text = (folder / entry["path"]).read_text()
    elif "patch" in entry:
        text = entry["patch"]
    else:
        raise KustomizeError(f"patch needs path or patch: {entry}")
    unknown = set(entry) - {"path", "patch", "target"}
    if unknown:
        raise KustomizeError(f"unsupported patch fields {sorted(unknown)}")
    patch = yaml.safe_load(text)
    if not isinstance(patch, dict) or isinstance(patch.get("op"), str):
        raise KustomizeError("only strategic-merge patches are supported")
    target = entry.get("target") or {
        "kind": patch.get("kind"),
        "name": patch.get("metadata", {}).get("name"),
    }
    matched = 0
    for i, doc in reversed(list(enumerate(docs))):
        if target.get("kind") and doc["kind"] != target["kind"]:
            continue
        if target.get("name") and doc["metadata"]["name"] != target["name"]:
            continue
        if patch.get("$patch") == "delete":  # drop the resource (e.g. an external database)
            del docs[i]
            matched += 1
            continue
        body = {k: v for k, v in patch.items() if k not in ("apiVersion", "kind")}
        if "target" in entry and "metadata" in body:  # the patch's own name is not a rename
            body["metadata"] = {k: v for k, v in body["metadata"].items() if k != "name"}
        docs[i] = merge(doc, body)
        matched += 1
    if not matched:
        raise KustomizeError(f"patch target {target} matches no resource")


def _set_replicas(docs: list[dict[str, Any]], name: str, count: int) -> None:
    found = [d for d in docs if d["kind"] in WORKLOADS and d["metadata"]["name"] == name]
    if not found:
        raise KustomizeError(f"replicas: no workload named {name}")
    for doc in found:
        doc["spec"]["replicas"] = count


def _set_image(docs: list[dict[str, Any]], image: dict[str, Any]) -> None:
    for doc in docs:
        pod = doc.get("spec", {}).get("template", {}).get("spec", {})
        for container in pod.get("containers", []) + pod.get("initContainers", []):
            ref = container["image"]
            name, tag = _split_image(ref)
            if name != image["name"]:
                continue
            name = image.get("newName", name)
            if image.get("digest"):
                container["image"] = f"{name}@{image['digest']}"
            else:
                tag = image.get("newTag", tag)
                container["image"] = f"{name}:{tag}" if tag else name


def _split_image(ref: str) -> tuple[str, str | None]:
    if "@" in ref:
        return ref.split("@", 1)[0], None
    head, _, last = ref.rpartition("/")
    if ":" in last:
        last, tag = last.split(":", 1)
        return (f"{head}/{last}" if head else last), tag
    return ref, None


def _add_labels(
    docs: list[dict[str, Any]], pairs: dict[str, str], *, selectors: bool, templates: bool
) -> None:
    for doc in docs:
        doc.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
        spec = doc.get("spec", {})
        if templates and doc["kind"] in WORKLOADS:
            spec["template"].setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
        if not selectors:
            continue
        if doc["kind"] == "Service":
            spec.setdefault("selector", {}).update(pairs)
        elif doc["kind"] in WORKLOADS or doc["kind"] == "PodDisruptionBudget":
            spec.setdefault("selector", {}).setdefault("matchLabels", {}).update(pairs)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m tools.kustomize FOLDER", file=sys.stderr)
        return 2
    sys.stdout.write(yaml.safe_dump_all(build(Path(args[0])), sort_keys=False, allow_unicode=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
