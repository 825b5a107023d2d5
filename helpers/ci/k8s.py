"""Map a Compose file to Kubernetes manifests, and validate them without a cluster.

The supported subset: ``image``, ``environment`` (-> a ConfigMap, and a Secret for
anything that looks like a credential), ``ports``/``expose`` (-> a Service),
``healthcheck`` (-> readiness and liveness probes), named ``volumes`` (-> a
PersistentVolumeClaim), ``command``/``entrypoint``, ``deploy.replicas``. Keys with no
Kubernetes meaning are listed in :data:`IGNORED` with the reason; any other key raises
:class:`~helpers.errors.ConfigFileError` naming the service, the key and its line.

Every object is checked against the Kubernetes API schema by :mod:`helpers.ci.k8sschema`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from helpers.ci.k8sschema import DNS1123, KINDS, validate_manifest
from helpers.ci.k8svalues import env_dict, port_pair, probe
from helpers.errors import ConfigFileError

__all__ = ["IGNORED", "Mapping", "K8sResult", "compose_to_k8s", "manifests_yaml"]

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
        lines: "service.key" -> line number, for error messages (see :func:`helpers.ci.composefile.load_compose`).
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
        _check_service(name, svc, path, lines)
        _map_service(_Service(name, svc, path, lines, out), claims)
    if validate:
        for m in out.manifests:
            validate_manifest(m)
    order = list(KINDS)
    out.manifests.sort(key=lambda m: order.index(m["kind"]) if m["kind"] in order else 99)
    return out


@dataclass
class _Service:
    """One compose service being mapped: its settings, and the container and result being filled in."""

    name: str
    svc: dict[str, Any]
    path: str
    lines: dict[str, int]
    out: K8sResult
    container: dict[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": self.name}

    def map(self, key: str, value: str, kind: str, k8s_field: str) -> None:
        """Record where one compose setting went."""
        self.out.mappings.append(Mapping(self.name, key, value, kind, k8s_field))

    def add(self, kind: str, name: str, **body: Any) -> None:
        """Add a manifest of ``kind`` named ``name`` (labelled with the service) to the result."""
        api = "apps/v1" if kind == "Deployment" else "v1"
        meta = body.pop("metadata", None) or {"name": name, "labels": self.labels}
        self.out.manifests.append({"apiVersion": api, "kind": kind, "metadata": meta, **body})


def _check_service(name: str, svc: dict[str, Any], path: str, lines: dict[str, int]) -> None:
    """Raise on a key outside the supported subset, an invalid name, or a service without an image."""
    for key in svc:
        if key not in _MAPPED:
            raise _fail(path, name, key, "no Kubernetes equivalent in the supported subset", lines)
    if not DNS1123.match(name):
        raise ConfigFileError(
            path,
            f"service name {name!r} is not a valid Kubernetes name",
            lines.get(name, 0),
            hint="Use lower-case letters, digits and '-' only.",
        )
    if "image" not in svc:
        raise _fail(path, name, "build", "Kubernetes runs images, it does not build them: set `image:`", lines)


def _map_service(s: _Service, claims: set[str]) -> None:
    """Map one service, step by step, in the order the mapping table shows them."""
    s.container.update({"name": s.name, "image": s.svc["image"]})
    s.map("image", s.svc["image"], "Deployment", "spec.template.spec.containers[0].image")
    _map_environment(s)
    _map_command(s)
    _map_ports(s)
    _map_healthcheck(s)
    volumes = _map_volumes(s, claims)
    _add_deployment(s, volumes)
    for key in s.svc:
        if key in IGNORED:
            s.map(key, str(s.svc[key])[:50], "-", IGNORED[key])


def _map_environment(s: _Service) -> None:
    """``environment`` -> a ConfigMap, and a Secret for what looks like a credential; both as ``envFrom``."""
    env = env_dict(s.svc.get("environment"))
    plain = {k: v for k, v in env.items() if not _SECRETISH.search(k)}
    secret = {k: v for k, v in env.items() if _SECRETISH.search(k)}
    env_from = []
    if plain:
        s.add("ConfigMap", f"{s.name}-config", data=plain)
        env_from.append({"configMapRef": {"name": f"{s.name}-config"}})
        for k, v in plain.items():
            s.map(f"environment.{k}", v, "ConfigMap", f"{s.name}-config data.{k}")
    if secret:
        s.add("Secret", f"{s.name}-secret", type="Opaque", stringData=secret)
        env_from.append({"secretRef": {"name": f"{s.name}-secret"}})
        for k in secret:
            s.map(f"environment.{k}", "(hidden)", "Secret", f"{s.name}-secret stringData.{k}")
    if env_from:
        s.container["envFrom"] = env_from


def _map_command(s: _Service) -> None:
    """``entrypoint`` -> the container's ``command``; ``command`` -> its ``args``."""
    for key, k8s in (("entrypoint", "command"), ("command", "args")):
        if key in s.svc:
            value = s.svc[key]
            s.container[k8s] = value.split() if isinstance(value, str) else list(value)
            s.map(key, str(value), "Deployment", f"containers[0].{k8s}")


def _map_ports(s: _Service) -> None:
    """``ports`` and ``expose`` -> a Service (and the container's ports)."""
    published, exposed = s.svc.get("ports") or [], s.svc.get("expose") or []
    ports = [port_pair(p) for p in published] + [(int(p), int(p)) for p in exposed]
    if not ports:
        return
    s.container["ports"] = [{"containerPort": t} for t in sorted({t for _, t in ports})]
    s.add(
        "Service",
        s.name,
        spec={"selector": s.labels, "ports": [{"name": f"p{p}", "port": p, "targetPort": t} for p, t in ports]},
    )
    for spec in published + exposed:
        key = "ports" if spec in published else "expose"
        s.map(key, str(spec), "Service", f"{s.name} spec.ports (+ containers[0].ports)")


def _map_healthcheck(s: _Service) -> None:
    """``healthcheck`` -> a readiness probe, and a liveness probe that tolerates twice the failures."""
    hc = s.svc.get("healthcheck")
    if not hc or hc.get("disable"):
        return
    check = probe(hc)
    s.container["readinessProbe"] = check
    s.container["livenessProbe"] = {**check, "failureThreshold": check["failureThreshold"] * 2}
    command = " ".join(check["exec"]["command"])[:50]
    s.map("healthcheck", command, "Deployment", "containers[0].readinessProbe / livenessProbe")


def _map_volumes(s: _Service, claims: set[str]) -> list[dict[str, Any]]:
    """Named ``volumes`` -> PersistentVolumeClaims (one per volume) and mounts; bind mounts raise.

    Returns:
        The pod's volumes.
    """
    volumes, mounts = [], []
    for spec in s.svc.get("volumes") or []:
        if isinstance(spec, dict):
            source, target = spec.get("source", ""), spec.get("target", "")
        else:
            source, target = str(spec).split(":")[0], str(spec).split(":")[1]
        if not source or "/" in source or source.startswith("."):
            why = f"{spec!r} is a bind mount; only named volumes map to a PVC"
            raise _fail(s.path, s.name, "volumes", why, s.lines)
        claim = re.sub(r"[^a-z0-9-]", "-", source.lower())
        volumes.append({"name": claim, "persistentVolumeClaim": {"claimName": claim}})
        mounts.append({"name": claim, "mountPath": target})
        if claim not in claims:
            claims.add(claim)
            storage = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
            s.add("PersistentVolumeClaim", claim, spec=storage)
        s.map("volumes", str(spec), "PersistentVolumeClaim", f"{claim} (+ volumeMounts {target})")
    if mounts:
        s.container["volumeMounts"] = mounts
    return volumes


def _add_deployment(s: _Service, volumes: list[dict[str, Any]]) -> None:
    """The Deployment: ``deploy.replicas``, the container, its volumes; compose labels become annotations."""
    replicas = int(((s.svc.get("deploy") or {}).get("replicas")) or 1)
    pod: dict[str, Any] = {"containers": [s.container]}
    if volumes:
        pod["volumes"] = volumes
    meta: dict[str, Any] = {"name": s.name, "labels": s.labels}
    if s.svc.get("labels"):
        meta["annotations"] = {str(k): str(v) for k, v in env_dict(s.svc["labels"]).items()}
    spec = {
        "replicas": replicas,
        "selector": {"matchLabels": s.labels},
        "strategy": {"type": "Recreate" if volumes else "RollingUpdate"},
        "template": {"metadata": {"labels": s.labels}, "spec": pod},
    }
    s.add("Deployment", s.name, metadata=meta, spec=spec)


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
