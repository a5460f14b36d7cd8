"""fabric-network/ cannot run here (no Docker engine, no Fabric binaries): check it agrees."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from chaincode.rules import DEFAULT_MSP_KINDS
from tests.chaincode.cryptogen_output import CryptogenOutput, cryptogen_output

ROOT = Path(__file__).resolve().parents[2]
NETWORK = ROOT / "fabric-network"
ORG_DOMAINS = {
    "LTOMSP": "lto.talaan.example",
    "HPGMSP": "hpg.talaan.example",
    "InsuranceMSP": "insurance.talaan.example",
    "EmissionMSP": "emission.talaan.example",
    "DealerMSP": "dealer.talaan.example",
}
# The dealers' organisation runs no peer: it endorses nothing, its own origin records included.
PEERLESS = {"DealerMSP"}


def load(name: str) -> dict:
    return yaml.safe_load((NETWORK / name).read_text())


def channel_profile() -> dict:
    return load("configtx.yaml")["Profiles"]["ClearanceChannel"]


def test_the_channel_has_every_talaan_organisation_kind_and_the_orderer():
    profile = channel_profile()
    application = {org["ID"] for org in profile["Application"]["Organizations"]}
    assert application == set(DEFAULT_MSP_KINDS) == set(ORG_DOMAINS)
    assert len(application) == 5
    assert [org["ID"] for org in profile["Orderer"]["Organizations"]] == ["OrdererMSP"]
    assert profile["Application"]["Capabilities"] == {"V2_5": True}
    assert profile["Orderer"]["OrdererType"] == "etcdraft"
    assert "Consortium" not in profile and "Consortiums" not in profile  # no system channel


def test_no_single_organisation_can_satisfy_the_endorsement_policy():
    policies = channel_profile()["Application"]["Policies"]
    assert policies["Endorsement"] == {"Type": "ImplicitMeta", "Rule": "MAJORITY Endorsement"}
    assert policies["LifecycleEndorsement"]["Rule"] == "MAJORITY Endorsement"
    # MAJORITY counts every organisation of the channel, peerless ones too: 3 of 5, and the
    # organisations with a peer are enough for it with one of them down.
    organisations = channel_profile()["Application"]["Organizations"]
    majority = len(organisations) // 2 + 1
    with_peers = [org for org in organisations if org.get("AnchorPeers")]
    assert majority >= 2 and len(with_peers) - 1 >= majority
    assert {org["ID"] for org in organisations} - {org["ID"] for org in with_peers} == PEERLESS


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
    assert len(peers) == len(ORG_DOMAINS) - len(PEERLESS) == 4
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
    assert cas == {"ca-lto", "ca-hpg", "ca-insurance", "ca-emission", "ca-dealer", "ca-orderer"}
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


# Everything the network's files name must be something cryptogen really makes. The recorded
# output of cryptogen 2.5.16 is the reference (see tests/chaincode/cryptogen_output.py).

ORDERER_DOMAIN = "orderer.talaan.example"


def generated() -> CryptogenOutput:
    return cryptogen_output(load("crypto-config.yaml"))


def cryptogen_out_dir() -> str:
    """The folder network.sh has cryptogen write into (relative to fabric-network/)."""
    script = (NETWORK / "scripts" / "network.sh").read_text()
    match = re.search(r"cryptogen generate --config=crypto-config\.yaml --output=(\S+)", script)
    assert match, "network.sh no longer runs cryptogen"
    return match.group(1).strip("/")


def in_output(path: str) -> str:
    """``path`` (relative to fabric-network/) as a path inside cryptogen's output."""
    prefix = cryptogen_out_dir() + "/"
    path = path.removeprefix("./")
    assert path.startswith(prefix), f"{path} is not under cryptogen's output {prefix}"
    return path[len(prefix) :]


def host_of(address: str) -> str:
    return address.rsplit(":", 1)[0]


def peer_names(output: CryptogenOutput, domain: str) -> frozenset[str]:
    nodes = [node for node in output.tls_names if node.startswith(f"peerOrganizations/{domain}/")]
    assert nodes, f"cryptogen made no peer for {domain}"
    return frozenset().union(*(output.tls_names[node] for node in nodes))


def orderer_names(output: CryptogenOutput) -> frozenset[str]:
    nodes = [node for node in output.tls_names if node.startswith("ordererOrganizations/")]
    return frozenset().union(*(output.tls_names[node] for node in nodes))


def test_crypto_config_is_one_that_cryptogen_was_seen_to_run_on():
    output = generated()
    assert f"ordererOrganizations/{ORDERER_DOMAIN}/orderers/{ORDERER_DOMAIN}/tls/server.crt" in (
        output.paths
    )


def test_every_folder_and_certificate_configtx_names_is_made_by_cryptogen():
    output = generated()
    config = load("configtx.yaml")
    for org in config["Organizations"]:
        assert output.exists(in_output(org["MSPDir"])), org["MSPDir"]
    for consenter in config["Orderer"]["EtcdRaft"]["Consenters"]:
        for key in ("ClientTLSCert", "ServerTLSCert"):
            assert output.exists(in_output(consenter[key])), consenter[key]


def test_every_host_configtx_names_is_in_that_nodes_tls_certificate_and_in_compose():
    output = generated()
    config = load("configtx.yaml")
    services = load("compose.yaml")["services"]
    for consenter in config["Orderer"]["EtcdRaft"]["Consenters"]:
        node = output.node_of(in_output(consenter["ServerTLSCert"]))
        assert node and consenter["Host"] in output.tls_names[node], consenter
        assert consenter["Host"] in services
    orderer_org = next(org for org in config["Organizations"] if org["ID"] == "OrdererMSP")
    for address in [*orderer_org["OrdererEndpoints"], *config["Orderer"]["Addresses"]]:
        assert host_of(address) in orderer_names(output), address
        assert host_of(address) in services, address
    for org in config["Organizations"]:
        domain = ORG_DOMAINS.get(org["ID"])
        for anchor in org.get("AnchorPeers", []):
            assert anchor["Host"] in peer_names(output, domain), anchor
            assert anchor["Host"] in services, anchor


def _mounts(service: dict) -> list[tuple[str, str]]:
    """(source, target) of each bind mount from cryptogen's output."""
    mounts = []
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        if source.startswith("./"):
            mounts.append((in_output(source), target.rstrip("/")))
    return mounts


def _container_paths(service: dict) -> list[str]:
    paths = []
    for value in service.get("environment", {}).values():
        paths.extend(re.findall(r"/[\w.@/-]+", str(value)))
    return paths


def test_every_file_compose_mounts_or_points_a_node_at_is_made_by_cryptogen():
    output = generated()
    checked = 0
    for name, service in load("compose.yaml")["services"].items():
        mounts = _mounts(service)
        for source, _ in mounts:
            assert output.exists(source), f"{name} mounts {source}"
        for path in _container_paths(service):
            for source, target in mounts:
                if path.startswith(target + "/"):
                    inside = source + path[len(target) :]
                    assert output.exists(inside), f"{name}: {path} is {inside}, not made"
                    checked += 1
    assert checked >= 6 * 2 + 10  # each CA's cert and key, each node's TLS files


def test_every_node_in_compose_answers_tls_for_the_names_it_is_reached_by():
    output = generated()
    nodes = 0
    for name, service in load("compose.yaml")["services"].items():
        tls_mounts = [source for source, target in _mounts(service) if target.endswith("/tls")]
        if not tls_mounts:
            continue
        nodes += 1
        node = output.node_of(tls_mounts[0])
        assert node, f"{name} mounts TLS files that are no node's"
        names = output.tls_names[node]
        assert name in names, f"{name} is reached as {name}; its certificate names {names}"
        env = service["environment"]
        for key in (
            "CORE_PEER_ADDRESS",
            "CORE_PEER_GOSSIP_BOOTSTRAP",
            "CORE_PEER_GOSSIP_EXTERNALENDPOINT",
        ):
            if key in env:
                assert host_of(env[key]) in names, f"{name} {key}={env[key]}"
    assert nodes == 5


_LOGGER_STUB = """#!/usr/bin/env bash
{ printf '%s' "$(basename "$0")"; printf '\\x1f%s' "$@"
  printf '\\x1fENV:CORE_PEER_ADDRESS=%s' "${CORE_PEER_ADDRESS:-}"
  printf '\\x1fENV:CORE_PEER_TLS_ROOTCERT_FILE=%s' "${CORE_PEER_TLS_ROOTCERT_FILE:-}"
  printf '\\x1fENV:CORE_PEER_MSPCONFIGPATH=%s\\n' "${CORE_PEER_MSPCONFIGPATH:-}"
} >>"$STUB_LOG"
case "$*" in *calculatepackageid*) echo talaan_1.0:0123abcd ;; esac
exit 0
"""
# Logs its call, and writes an enrolled identity (signcerts and keystore) where -M asks, as
# fabric-ca-client enroll does; the certificate names the attributes of the last register.
_CA_CLIENT_STUB = """#!/usr/bin/env bash
{ printf '%s' "$(basename "$0")"; printf '\\x1f%s' "$@"; printf '\\n'; } >>"$STUB_LOG"
msp=""; attrs=""
while [ $# -gt 0 ]; do
  case $1 in -M) msp=$2; shift ;; --id.attrs) attrs=$2; shift ;; esac; shift
done
[ -n "$attrs" ] && printf '%s' "$attrs" >"$STUB_LOG.attrs"
if [ -n "$msp" ]; then
  mkdir -p "$msp/signcerts" "$msp/keystore"
  cat "$STUB_LOG.attrs" >"$msp/signcerts/cert.pem"
  echo key >"$msp/keystore/0a1b2c_sk"
fi
exit 0
"""
# Lays out the recorded output (every leaf as a file) where network.sh asks cryptogen to write.
_CRYPTOGEN_STUB = """#!/usr/bin/env bash
for arg in "$@"; do case $arg in --output=*) out=${arg#--output=} ;; esac; done
while IFS= read -r path; do
  mkdir -p "$out/$(dirname "$path")" && touch "$out/$path"
done <"$STUB_TREE"
"""


def _run_network_script(tmp_path: Path, output: CryptogenOutput) -> tuple[Path, list[list[str]]]:
    """Run network.sh up, createChannel, deployCC and identities with stand-ins for Docker and
    the Fabric binaries (neither runs here); return the copy's folder and every call made."""
    network = tmp_path / "fabric-network"
    (network / "scripts").mkdir(parents=True)
    for name in ("configtx.yaml", "compose.yaml", "crypto-config.yaml"):
        (network / name).write_text((NETWORK / name).read_text())
    (network / "scripts" / "network.sh").write_text((NETWORK / "scripts/network.sh").read_text())
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for tool in ("docker", "configtxgen", "osnadmin", "peer"):
        (stubs / tool).write_text(_LOGGER_STUB)
    (stubs / "cryptogen").write_text(_CRYPTOGEN_STUB)
    (stubs / "fabric-ca-client").write_text(_CA_CLIENT_STUB)
    for stub in stubs.iterdir():
        stub.chmod(0o755)
    leaves = sorted(p for p in output.paths if not any(q.startswith(p + "/") for q in output.paths))
    (tmp_path / "tree.txt").write_text("\n".join(leaves) + "\n")
    log = tmp_path / "calls.log"
    env = {
        "PATH": f"{stubs}:/usr/bin:/bin",
        "STUB_LOG": str(log),
        "STUB_TREE": str(tmp_path / "tree.txt"),
        "HOME": str(tmp_path),
        "DEALERS": " ".join(DEALERS),
    }
    for command in ("up", "createChannel", "deployCC", "identities"):
        done = subprocess.run(
            ["bash", str(network / "scripts" / "network.sh"), command],
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, f"network.sh {command}: {done.stderr}"
    calls = [line.split("\x1f") for line in log.read_text().splitlines()]
    return network, calls


def test_every_path_and_host_network_sh_uses_is_made_by_cryptogen(tmp_path):
    output = generated()
    network, calls = _run_network_script(tmp_path, output)
    out_dir = f"{network}/{cryptogen_out_dir()}/"
    paths_checked = 0
    for call in calls:
        for arg in call[1:]:
            value = arg.split("=", 1)[1] if arg.startswith("ENV:") else arg
            if f"{cryptogen_out_dir()}/" not in value:
                continue
            relative = value.removeprefix(out_dir).removeprefix(f"{cryptogen_out_dir()}/")
            assert output.exists(relative), f"{call[0]} {' '.join(call[1:4])}: {value}"
            paths_checked += 1
        if "--ordererTLSHostnameOverride" in call:
            override = call[call.index("--ordererTLSHostnameOverride") + 1]
            assert override in orderer_names(output), override
        if "-o" in call:
            assert host_of(call[call.index("-o") + 1]) in orderer_names(output)
        env = dict(arg[4:].split("=", 1) for arg in call if arg.startswith("ENV:"))
        if call[0] == "peer" and env["CORE_PEER_ADDRESS"]:
            domain = env["CORE_PEER_TLS_ROOTCERT_FILE"].split("/peerOrganizations/")[1]
            names = peer_names(output, domain.split("/")[0])
            assert host_of(env["CORE_PEER_ADDRESS"]) in names, env
    assert paths_checked >= 20
    for org, domain in ORG_DOMAINS.items():
        if org in PEERLESS:
            continue
        folder = network / "identities" / org
        assert (folder / "cert.pem").exists() and (folder / "key.pem").exists()
        assert host_of((folder / "peer").read_text().strip()) in peer_names(output, domain)


DEALERS = ("toyota-manila-bay", "honda-cebu")


def test_network_sh_enrols_each_dealer_with_its_code_as_the_certificate_attribute(tmp_path):
    network, calls = _run_network_script(tmp_path, generated())
    registers = [call for call in calls if call[:2] == ["fabric-ca-client", "register"]]
    assert [call[call.index("--id.name") + 1] for call in registers] == list(DEALERS)
    for call, code in zip(registers, DEALERS, strict=True):
        assert call[call.index("--id.attrs") + 1] == f"talaan.dealer={code}:ecert"
        assert call[call.index("--id.type") + 1] == "client"
        assert call[call.index("--caname") + 1] == "ca-dealer"
    # Where the fabric backend looks for a dealer's signer (ledger/fabric/identity.py).
    for code in DEALERS:
        folder = network / "identities" / "DealerMSP" / code
        assert (folder / "cert.pem").read_text() == f"talaan.dealer={code}:ecert"
        assert (folder / "key.pem").exists()
    services = load("compose.yaml")["services"]
    ca_port = services["ca-dealer"]["environment"]["FABRIC_CA_SERVER_PORT"]
    enrols = [call for call in calls if call[:2] == ["fabric-ca-client", "enroll"]]
    assert enrols and all(f"@localhost:{ca_port}" in call[call.index("-u") + 1] for call in enrols)
