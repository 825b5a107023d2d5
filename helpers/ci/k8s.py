"""Map a Compose file to Kubernetes manifests, and validate them without a cluster.

The supported subset: ``image``, ``environment`` (-> a ConfigMap, and a Secret for
anything that looks like a credential), ``ports``/``expose`` (-> a Service),
``healthcheck`` (-> readiness and liveness probes), named ``volumes`` (-> a
PersistentVolumeClaim), ``command``/``entrypoint``, ``deploy.replicas``. Keys with no
Kubernetes meaning are listed in :data:`IGNORED` with the reason; any other key raises
:class:`~helpers.errors.ConfigFileError` naming the service, the key and its line.

Every object is checked against the Kubernetes API schema through the models of the
pinned ``kubernetes`` Python client (field names, types, required fields).
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass, field
from typing import Any

from helpers.errors import ConfigFileError

__all__ = ["IGNORED", "Mapping", "K8sResult", "compose_to_k8s", "validate_manifest", "manifests_yaml"]

#: Compose keys that have no Kubernetes counterpart, with what happens instead.
IGNORED = {
    "depends_on": "Kubernetes has no start order: readiness probes and restarts take its place",
    "restart": "a Deployment always restarts its pods",
    "labels": "kept as annotations on the Deployment",
    "container_name": "pods get generated names; the Service name is the stable one",
    "networks": "every pod in a namespace reaches every Service by name",
}
_MAPPED = {
    "image",
    "environment",
    "ports",
    "expose",
    "healthcheck",
    "volumes",
    "command",
    "entrypoint",
    "deploy",
} | set(IGNORED)
_SECRETISH = re.compile(r"PASSWORD|SECRET|TOKEN|KEY|CREDENTIAL|DATABASE_URL", re.I)
_DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
#: Kind -> kubernetes client model, in the order `kubectl apply` should see them.
_KINDS = {
    "ConfigMap": "V1ConfigMap",
    "Secret": "V1Secret",
    "PersistentVolumeClaim": "V1PersistentVolumeClaim",
    "Service": "V1Service",
    "Deployment": "V1Deployment",
}


@dataclass
class Mapping:
    """One Compose setting and where it went in Kubernetes."""

    service: str
    compose_key: str
    compose_value: str
    kind: str
    k8s_field: str


@dataclass
class K8sResult:
    """What :func:`compose_to_k8s` produced."""

    manifests: list[dict[str, Any]] = field(default_factory=list)
    mappings: list[Mapping] = field(default_factory=list)

    def frame(self) -> Any:
        """The mapping, side by side, as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(
            [m.__dict__ for m in self.mappings],
            columns=["service", "compose_key", "compose_value", "kind", "k8s_field"],
        )

    def kinds(self) -> list[str]:
        return [f"{m['kind']}/{m['metadata']['name']}" for m in self.manifests]


def _seconds(value: Any, default: int) -> int:
    """'2s', '1m30s', '500ms' -> whole seconds (at least 1)."""
    if value is None:
        return default
    total = 0.0
    for num, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)?", str(value)):
        total += float(num) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6, "": 1}[unit]
    return max(1, round(total))


def _probe(hc: dict[str, Any]) -> dict[str, Any]:
    test = hc.get("test")
    if isinstance(test, str):
        cmd = ["sh", "-c", test]
    elif test and test[0] == "CMD-SHELL":
        cmd = ["sh", "-c", " ".join(test[1:])]
    else:
        cmd = list(test[1:] if test and test[0] == "CMD" else test or [])
    return {
        "exec": {"command": cmd},
        "periodSeconds": _seconds(hc.get("interval"), 30),
        "timeoutSeconds": _seconds(hc.get("timeout"), 30),
        "failureThreshold": int(hc.get("retries", 3)),
    }


def _env(value: Any) -> dict[str, str]:
    if isinstance(value, list):
        return dict((item.split("=", 1) + [""])[:2] for item in value)
    return {k: "" if v is None else str(v) for k, v in (value or {}).items()}


def _port(spec: Any) -> tuple[int, int]:
    """A compose port -> (published or target, target)."""
    if isinstance(spec, dict):
        return int(spec.get("published", spec["target"])), int(spec["target"])
    parts = str(spec).split("/")[0].split(":")
    target = int(parts[-1])
    return (int(parts[-2]) if len(parts) >= 2 and parts[-2] else target), target


def _fail(path: str, service: str, key: str, why: str, lines: dict[str, int]) -> ConfigFileError:
    return ConfigFileError(
        path,
        f"services.{service}.{key} cannot be mapped to Kubernetes: {why}",
        line=lines.get(f"{service}.{key}", 0),
        hint="Remove it (or move it out of the file you convert); the supported keys are: "
        + ", ".join(sorted(_MAPPED)),
    )


def compose_to_k8s(
    compose: dict[str, Any], path: str = "compose.yaml", lines: dict[str, int] | None = None, validate: bool = True
) -> K8sResult:
    """Generate Deployments, Services, ConfigMaps/Secrets and PVCs from a Compose file.

    Args:
        compose: The parsed compose file (variables already substituted).
        path: Its name, for error messages.
        lines: "service.key" -> line number, for error messages (see :func:`helpers.ci.compose.load_compose`).
        validate: Check every object against the Kubernetes schema.

    Returns:
        A :class:`K8sResult` with the manifests and the side-by-side mapping.

    Raises:
        ConfigFileError: A key has no Kubernetes mapping, or an object fails the schema.
    """
    lines = lines or {}
    out = K8sResult()
    claims: set[str] = set()
    for name, svc in (compose.get("services") or {}).items():
        for key in svc:
            if key not in _MAPPED:
                raise _fail(path, name, key, "no Kubernetes equivalent in the supported subset", lines)
        if not _DNS1123.match(name):
            raise ConfigFileError(
                path,
                f"service name {name!r} is not a valid Kubernetes name",
                lines.get(name, 0),
                hint="Use lower-case letters, digits and '-' only.",
            )
        if "image" not in svc:
            raise _fail(path, name, "build", "Kubernetes runs images, it does not build them: set `image:`", lines)
        labels = {"app.kubernetes.io/name": name}
        container: dict[str, Any] = {"name": name, "image": svc["image"]}
        mp = out.mappings.append
        mp(Mapping(name, "image", svc["image"], "Deployment", "spec.template.spec.containers[0].image"))
        env = _env(svc.get("environment"))
        plain = {k: v for k, v in env.items() if not _SECRETISH.search(k)}
        secret = {k: v for k, v in env.items() if _SECRETISH.search(k)}
        env_from = []
        if plain:
            out.manifests.append(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": f"{name}-config", "labels": labels},
                    "data": plain,
                }
            )
            env_from.append({"configMapRef": {"name": f"{name}-config"}})
            for k, v in plain.items():
                mp(Mapping(name, f"environment.{k}", v, "ConfigMap", f"{name}-config data.{k}"))
        if secret:
            out.manifests.append(
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": f"{name}-secret", "labels": labels},
                    "type": "Opaque",
                    "stringData": secret,
                }
            )
            env_from.append({"secretRef": {"name": f"{name}-secret"}})
            for k in secret:
                mp(Mapping(name, f"environment.{k}", "(hidden)", "Secret", f"{name}-secret stringData.{k}"))
        if env_from:
            container["envFrom"] = env_from
        if "entrypoint" in svc:
            ep = svc["entrypoint"]
            container["command"] = ep.split() if isinstance(ep, str) else list(ep)
            mp(Mapping(name, "entrypoint", str(ep), "Deployment", "containers[0].command"))
        if "command" in svc:
            cmd = svc["command"]
            container["args"] = cmd.split() if isinstance(cmd, str) else list(cmd)
            mp(Mapping(name, "command", str(cmd), "Deployment", "containers[0].args"))
        ports = [_port(p) for p in svc.get("ports") or []] + [(int(p), int(p)) for p in svc.get("expose") or []]
        if ports:
            container["ports"] = [{"containerPort": t} for t in sorted({t for _, t in ports})]
            out.manifests.append(
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": name, "labels": labels},
                    "spec": {
                        "selector": labels,
                        "ports": [{"name": f"p{p}", "port": p, "targetPort": t} for p, t in ports],
                    },
                }
            )
            for spec in (svc.get("ports") or []) + (svc.get("expose") or []):
                mp(
                    Mapping(
                        name,
                        "ports" if spec in (svc.get("ports") or []) else "expose",
                        str(spec),
                        "Service",
                        f"{name} spec.ports (+ containers[0].ports)",
                    )
                )
        if "healthcheck" in svc and not svc["healthcheck"].get("disable"):
            probe = _probe(svc["healthcheck"])
            container["readinessProbe"] = probe
            container["livenessProbe"] = {**probe, "failureThreshold": probe["failureThreshold"] * 2}
            mp(
                Mapping(
                    name,
                    "healthcheck",
                    " ".join(probe["exec"]["command"])[:50],
                    "Deployment",
                    "containers[0].readinessProbe / livenessProbe",
                )
            )
        volumes, mounts = [], []
        for spec in svc.get("volumes") or []:
            source, _, target = (
                (spec.get("source", ""), None, spec.get("target", ""))
                if isinstance(spec, dict)
                else (str(spec).split(":")[0], None, str(spec).split(":")[1])
            )
            if not source or "/" in source or source.startswith("."):
                raise _fail(path, name, "volumes", f"{spec!r} is a bind mount; only named volumes map to a PVC", lines)
            claim = re.sub(r"[^a-z0-9-]", "-", source.lower())
            volumes.append({"name": claim, "persistentVolumeClaim": {"claimName": claim}})
            mounts.append({"name": claim, "mountPath": target})
            if claim not in claims:
                claims.add(claim)
                out.manifests.append(
                    {
                        "apiVersion": "v1",
                        "kind": "PersistentVolumeClaim",
                        "metadata": {"name": claim, "labels": labels},
                        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
                    }
                )
            mp(Mapping(name, "volumes", str(spec), "PersistentVolumeClaim", f"{claim} (+ volumeMounts {target})"))
        if mounts:
            container["volumeMounts"] = mounts
        replicas = int(((svc.get("deploy") or {}).get("replicas")) or 1)
        pod: dict[str, Any] = {"containers": [container]}
        if volumes:
            pod["volumes"] = volumes
        meta: dict[str, Any] = {"name": name, "labels": labels}
        if svc.get("labels"):
            meta["annotations"] = {str(k): str(v) for k, v in _env(svc["labels"]).items()}
        out.manifests.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": meta,
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": labels},
                    "strategy": {"type": "Recreate" if volumes else "RollingUpdate"},
                    "template": {"metadata": {"labels": labels}, "spec": pod},
                },
            }
        )
        for key in svc:
            if key in IGNORED:
                mp(Mapping(name, key, str(svc[key])[:50], "-", IGNORED[key]))
    if validate:
        for m in out.manifests:
            validate_manifest(m)
    order = list(_KINDS)
    out.manifests.sort(key=lambda m: order.index(m["kind"]) if m["kind"] in order else 99)
    return out


def manifests_yaml(manifests: list[dict[str, Any]], redact: bool = True) -> str:
    """The manifests as one multi-document YAML text (what `kubectl apply -f` reads).

    Args:
        manifests: The objects.
        redact: Replace Secret values with ``<redacted>`` (for showing, not for applying).
    """
    import yaml

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    docs = []
    for m in manifests:
        if redact and m.get("kind") == "Secret":
            m = {**m, "stringData": {k: "<redacted>" for k in m.get("stringData", {})}}
        docs.append(yaml.dump(m, Dumper=Dumper, sort_keys=False))
    return "---\n".join(docs)
