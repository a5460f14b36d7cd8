"""fabric-network/ cannot run here (no Docker engine, no Fabric binaries): check it agrees."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from chaincode.rules import DEFAULT_MSP_KINDS

ROOT = Path(__file__).resolve().parents[2]
NETWORK = ROOT / "fabric-network"
ORG_DOMAINS = {
    "LTOMSP": "lto.talaan.example",
    "HPGMSP": "hpg.talaan.example",
    "InsuranceMSP": "insurance.talaan.example",
    "EmissionMSP": "emission.talaan.example",
}


def load(name: str) -> dict:
    return yaml.safe_load((NETWORK / name).read_text())


def channel_profile() -> dict:
    return load("configtx.yaml")["Profiles"]["ClearanceChannel"]


def test_the_channel_has_the_four_talaan_organisations_and_the_orderer():
    profile = channel_profile()
    application = {org["ID"] for org in profile["Application"]["Organizations"]}
    assert application == set(DEFAULT_MSP_KINDS) == set(ORG_DOMAINS)
    assert [org["ID"] for org in profile["Orderer"]["Organizations"]] == ["OrdererMSP"]
    assert profile["Application"]["Capabilities"] == {"V2_5": True}
    assert profile["Orderer"]["OrdererType"] == "etcdraft"
    assert "Consortium" not in profile and "Consortiums" not in profile  # no system channel


def test_no_single_organisation_can_satisfy_the_endorsement_policy():
    policies = channel_profile()["Application"]["Policies"]
    assert policies["Endorsement"] == {"Type": "ImplicitMeta", "Rule": "MAJORITY Endorsement"}
    assert policies["LifecycleEndorsement"]["Rule"] == "MAJORITY Endorsement"


def test_every_organisation_policy_names_only_its_own_msp():
    for org in load("configtx.yaml")["Organizations"]:
        assert org["Name"] == org["ID"]
        for policy in org["Policies"].values():
            assert policy["Type"] == "Signature"
            assert set(re.findall(r"'(\w+)\.\w+'", policy["Rule"])) == {org["ID"]}
        domain = ORG_DOMAINS.get(org["ID"], "orderer.talaan.example")
        assert f"/{domain}/msp" in org["MSPDir"]


def test_the_batch_timeout_is_set_and_documented():
    orderer = channel_profile()["Orderer"]
    assert re.fullmatch(r"\d+(ms|s)", orderer["BatchTimeout"])
    assert "batch timeout" in (NETWORK / "README.md").read_text().lower()


def test_every_compose_peer_belongs_to_a_channel_organisation_at_its_anchor_address():
    services = load("compose.yaml")["services"]
    anchors = {
        f"{a['Host']}:{a['Port']}": org["ID"]
        for org in load("configtx.yaml")["Organizations"]
        for a in org.get("AnchorPeers", [])
    }
    peers = {name: s for name, s in services.items() if name.startswith("peer0.")}
    assert len(peers) == 4
    for name, service in peers.items():
        env = service["environment"]
        assert anchors[env["CORE_PEER_ADDRESS"]] == env["CORE_PEER_LOCALMSPID"], name
        assert name.endswith(ORG_DOMAINS[env["CORE_PEER_LOCALMSPID"]])
        assert env["CORE_PEER_GATEWAY_ENABLED"] == "true"
        assert "ccaas_builder" in env["CORE_CHAINCODE_EXTERNALBUILDERS"]
        for dependency in service.get("depends_on", []):
            assert dependency in services


def test_compose_has_a_ca_per_organisation_the_orderer_and_the_chaincode_server():
    services = load("compose.yaml")["services"]
    cas = {name for name in services if name.startswith("ca-")}
    assert cas == {"ca-lto", "ca-hpg", "ca-insurance", "ca-emission", "ca-orderer"}
    orderer = services["orderer.talaan.example"]["environment"]
    assert orderer["ORDERER_GENERAL_BOOTSTRAPMETHOD"] == "none"
    assert orderer["ORDERER_CHANNELPARTICIPATION_ENABLED"] == "true"
    chaincode = services["chaincode"]
    assert chaincode["build"]["dockerfile"] == "Dockerfile.chaincode"
    assert (NETWORK / chaincode["build"]["context"] / "Dockerfile.chaincode").exists()
    assert chaincode["environment"]["CHAINCODE_SERVER_ADDRESS"].endswith(":9999")


def test_crypto_config_makes_every_organisation_of_the_channel():
    crypto = load("crypto-config.yaml")
    domains = {org["Domain"] for org in crypto["PeerOrgs"]}
    assert domains == set(ORG_DOMAINS.values())
    assert [org["Domain"] for org in crypto["OrdererOrgs"]] == ["orderer.talaan.example"]
    assert all(org["EnableNodeOUs"] for org in crypto["PeerOrgs"] + crypto["OrdererOrgs"])


def test_the_network_script_parses_and_uses_the_channel_participation_api():
    script = NETWORK / "scripts" / "network.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text()
    for command in (
        "osnadmin channel join",
        "peer channel join",
        "peer lifecycle chaincode install",
        "approveformyorg",
        "peer lifecycle chaincode commit",
        '"type": "ccaas"',
        "chaincode:9999",
    ):
        assert command in text, command
    for org, msp in (("lto", "LTOMSP"), ("hpg", "HPGMSP"), ("insurance", "InsuranceMSP")):
        assert f"[{org}]={msp}" in text


def test_the_readme_names_the_backend_settings():
    readme = (NETWORK / "README.md").read_text()
    for name in ("LEDGER_BACKEND", "FABRIC_GATEWAY_ENDPOINT", "FABRIC_TLS_CA_FILE"):
        assert name in readme
    assert "FABRIC_IDENTITIES_DIR" in readme


def test_the_chaincode_image_installs_only_the_pinned_chaincode_dependencies():
    dockerfile = (ROOT / "Dockerfile.chaincode").read_text()
    pins = dict(
        line.split("==", 1)
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    installed = re.findall(r"([A-Za-z0-9_.-]+)==([^\s\"\\]+)", dockerfile)
    assert {name for name, _ in installed} >= {
        "fabric-chaincode-python",
        "hyperledger-fabric-protos",
        "protobuf",
        "cryptography",
    }
    for name, version in installed:
        assert pins.get(name) == version, name
    assert "COPY chaincode/ chaincode/" in dockerfile and "django" not in dockerfile.lower()
