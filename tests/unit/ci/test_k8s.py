"""Unit tests for helpers.ci.k8s (no engine, no cluster)."""

from __future__ import annotations

import copy

import pytest
import yaml

from helpers.ci.composefile import load_compose
from helpers.ci.k8s import compose_to_k8s, manifests_yaml
from helpers.ci.k8sschema import validate_manifest
from helpers.errors import ConfigFileError


@pytest.fixture()
def sample():
    return load_compose()


def test_sample_maps_to_the_expected_objects(sample):
    """Does the sample compose file give ConfigMaps, Secrets, a PVC, Services and Deployments?"""
    result = compose_to_k8s(*sample[:1], lines=sample[1])
    assert result.kinds() == [
        "ConfigMap/app-config",
        "ConfigMap/db-config",
        "Secret/app-secret",
        "Secret/db-secret",
        "PersistentVolumeClaim/db-data",
        "Service/app",
        "Service/db",
        "Deployment/app",
        "Deployment/db",
    ]


def test_credentials_go_to_secrets_not_configmaps(sample):
    """Are the password and the DATABASE_URL kept out of the ConfigMaps?"""
    result = compose_to_k8s(sample[0])
    config = {k for m in result.manifests if m["kind"] == "ConfigMap" for k in m["data"]}
    secret = {k for m in result.manifests if m["kind"] == "Secret" for k in m["stringData"]}
    assert "POSTGRES_PASSWORD" in secret and "DATABASE_URL" in secret
    assert not config & {"POSTGRES_PASSWORD", "DATABASE_URL"}


def test_healthcheck_becomes_probes_and_volume_a_claim(sample):
    """Is the db healthcheck a readiness probe and its named volume mounted from the PVC?"""
    dep = next(
        m for m in compose_to_k8s(sample[0]).manifests if m["kind"] == "Deployment" and m["metadata"]["name"] == "db"
    )
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert c["readinessProbe"]["exec"]["command"][:2] == ["sh", "-c"]
    assert c["readinessProbe"]["periodSeconds"] == 2
    assert c["volumeMounts"] == [{"name": "db-data", "mountPath": "/var/lib/postgresql/data"}]
    assert pod["volumes"][0]["persistentVolumeClaim"]["claimName"] == "db-data"
    assert dep["spec"]["strategy"]["type"] == "Recreate"


def test_service_maps_published_to_target_port(sample):
    """Does the app Service forward the published port to the container port?"""
    svc = next(
        m for m in compose_to_k8s(sample[0]).manifests if m["kind"] == "Service" and m["metadata"]["name"] == "app"
    )
    assert svc["spec"]["ports"][0]["port"] == 8080 and svc["spec"]["ports"][0]["targetPort"] == 8000


def test_unmappable_key_is_named_with_its_line(sample):
    """Does a key with no Kubernetes mapping raise an error naming the service, the key and the line?"""
    doc, lines = sample
    doc = copy.deepcopy(doc)
    doc["services"]["app"]["privileged"] = True
    lines = {**lines, "app.privileged": 42}
    with pytest.raises(ConfigFileError) as e:
        compose_to_k8s(doc, lines=lines)
    assert "services.app.privileged" in str(e.value) and e.value.line == 42


def test_bind_mount_is_refused(sample):
    """Is a bind mount refused (only named volumes map to a PVC)?"""
    doc = copy.deepcopy(sample[0])
    doc["services"]["app"]["volumes"] = ["./data:/data"]
    with pytest.raises(ConfigFileError, match="bind mount"):
        compose_to_k8s(doc)


def test_invalid_service_name_is_refused():
    """Is a compose service name that is not a DNS label refused?"""
    with pytest.raises(ConfigFileError, match="not a valid Kubernetes name"):
        compose_to_k8s({"services": {"my_app": {"image": "x"}}})


def test_schema_catches_unknown_field_and_wrong_type(sample):
    """Does schema validation name an unknown field and a wrong type?"""
    dep = copy.deepcopy(compose_to_k8s(sample[0]).manifests[-1])
    dep["spec"]["template"]["spec"]["containers"][0]["healthCheck"] = {}
    with pytest.raises(ConfigFileError, match="healthCheck: no such field in V1Container"):
        validate_manifest(dep)
    dep = copy.deepcopy(compose_to_k8s(sample[0]).manifests[-1])
    dep["spec"]["replicas"] = "two"
    with pytest.raises(ConfigFileError, match="valid integer"):
        validate_manifest(dep)


def test_schema_catches_missing_required_field():
    """Is a container without a name reported as a missing required field?"""
    dep = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {"selector": {}, "template": {"spec": {"containers": [{"image": "x"}]}}},
    }
    with pytest.raises(ConfigFileError, match="required field is missing"):
        validate_manifest(dep)


def test_every_generated_object_validates(sample):
    """Does each generated object pass the schema, and the YAML round-trip without aliases?"""
    result = compose_to_k8s(sample[0])
    assert all(validate_manifest(m).startswith("V1") for m in result.manifests)
    text = manifests_yaml(result.manifests)
    assert "&id" not in text and "<redacted>" in text and "change-me" not in text
    assert len(list(yaml.safe_load_all(text))) == len(result.manifests)


def test_mapping_frame_hides_secret_values(sample):
    """Does the side-by-side table show no secret value?"""
    df = compose_to_k8s(sample[0]).frame()
    assert "change-me" not in df.to_string()
    assert set(df.columns) == {"service", "compose_key", "compose_value", "kind", "k8s_field"}
