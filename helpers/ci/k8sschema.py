"""Check Kubernetes manifests against the API schema, without a cluster.

Every object :func:`helpers.ci.k8s.compose_to_k8s` writes is checked through the models of the
pinned ``kubernetes`` Python client (field names, types, required fields), so a student sees a
schema mistake with the field's path before any ``kubectl apply``. Kept apart from the mapping
because it knows nothing about Compose: it validates any manifest of the kinds below.
"""

from __future__ import annotations

import re
import typing
from typing import Any

from helpers.errors import ConfigFileError

__all__ = ["KINDS", "validate_manifest"]

#: Kind -> kubernetes client model, in the order `kubectl apply` should see them.
KINDS = {
    "ConfigMap": "V1ConfigMap",
    "Secret": "V1Secret",
    "PersistentVolumeClaim": "V1PersistentVolumeClaim",
    "Service": "V1Service",
    "Deployment": "V1Deployment",
    "Job": "V1Job",  # e.g. docs/examples/shards/autograde-job.yaml (an Indexed Job)
}
#: A valid Kubernetes object name (RFC 1123 label).
DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _model_of(annotation: Any) -> Any:
    """The kubernetes model class inside Optional[...], List[...] or Dict[str, ...], if any."""
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _unknown_keys(obj: Any, cls: Any, where: str) -> list[str]:
    if isinstance(obj, list):
        return [e for i, item in enumerate(obj) for e in _unknown_keys(item, cls, f"{where}[{i}]")]
    if not isinstance(obj, dict):
        return []
    fields = {(f.serialization_alias or f.alias or n): f for n, f in cls.model_fields.items()}
    errors = []
    for key, value in obj.items():
        if key not in fields:
            errors.append(f"{where}.{key}: no such field in {cls.__name__}")
            continue
        sub = _model_of(fields[key].annotation)
        if sub is not None:
            items = value.values() if isinstance(value, dict) and "Dict" in str(fields[key].annotation) else [value]
            for item in items:
                errors += _unknown_keys(item, sub, f"{where}.{key}")
    return errors


def validate_manifest(manifest: dict[str, Any]) -> str:
    """Check one object against the Kubernetes API schema (the kubernetes client's models).

    Returns:
        The model name it was checked against (e.g. ``"V1Deployment"``).

    Raises:
        ConfigFileError: Unknown field, wrong type, missing required field, or an invalid name.
    """
    import kubernetes.client as kc
    from pydantic import ValidationError

    kind = manifest.get("kind", "?")
    name = (manifest.get("metadata") or {}).get("name", "?")
    where = f"{kind}/{name}"
    if kind not in KINDS:
        raise ConfigFileError(where, f"kind {kind!r} is not one the kit validates", hint=f"Use one of {list(KINDS)}.")
    cls = getattr(kc, KINDS[kind])
    errors = _unknown_keys(manifest, cls, kind)
    if not DNS1123.match(str(name)):
        errors.append(f"metadata.name {name!r} is not a DNS-1123 label")
    try:
        cls.from_dict(manifest)
    except (ValidationError, ValueError, TypeError) as e:
        first = e.errors()[0] if isinstance(e, ValidationError) else {"loc": (), "msg": str(e)}
        msg = "required field is missing" if first.get("input", "") is None else first["msg"]
        errors.append(f"{'.'.join(map(str, first['loc'])) or kind}: {msg}")
    if errors:
        raise ConfigFileError(
            where,
            "fails the Kubernetes schema: " + "; ".join(errors[:3]),
            hint="Fix the field named above (kubectl explain shows the schema).",
        )
    return cls.__name__
