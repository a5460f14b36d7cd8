"""fabric-network/ cannot run here (no Docker engine, no Fabric binaries): check it agrees."""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
from itertools import combinations
from pathlib import Path

import yaml

from chaincode.rules import DEFAULT_MSP_KINDS
from tests.chaincode.channel_policy import application_policy
from tests.chaincode.cryptogen_output import CryptogenOutput, cryptogen_output

ROOT = Path(__file__).resolve().parents[2]
NETWORK = ROOT / "fabric-network"
ORG_DOMAINS = {
    "LTOMSP": "lto.talaan.example",
    "HPGMSP": "hpg.talaan.example",
    "InsuranceMSP": "insurance.talaan.example",
    "EmissionMSP": "emission.talaan.example",
    "DealerMSP": "dealer.talaan.example",
    "LenderMSP": "lender.talaan.example",
}
# The dealers' and lenders' organisations run no peer: they endorse nothing, their own origin
# records and mortgages included.
PEERLESS = {"DealerMSP", "LenderMSP"}


def load(name: str) -> dict:
    return yaml.safe_load((NETWORK / name).read_text())


def channel_profile() -> dict:
    return load("configtx.yaml")["Profiles"]["ClearanceChannel"]


def test_the_channel_has_every_talaan_organisation_kind_and_the_orderer():
    profile = channel_profile()
    application = {org["ID"] for org in profile["Application"]["Organizations"]}
    assert application == set(DEFAULT_MSP_KINDS) == set(ORG_DOMAINS)
    assert len(application) == 6
    assert [org["ID"] for org in profile["Orderer"]["Organizations"]] == ["OrdererMSP"]
    assert profile["Application"]["Capabilities"] == {"V2_5": True}
    assert profile["Orderer"]["OrdererType"] == "etcdraft"
    assert "Consortium" not in profile and "Consortiums" not in profile  # no system channel


def channel_organisations() -> tuple[set[str], set[str]]:
    """The channel's application organisations, and those of them with a peer."""
    organisations = channel_profile()["Application"]["Organizations"]
    with_peers = {org["ID"] for org in organisations if org.get("AnchorPeers")}
    return {org["ID"] for org in organisations}, with_peers


def test_majority_endorsement_would_need_every_peer_so_the_policy_names_the_peer_organisations():
    organisations, with_peers = channel_organisations()
    assert organisations - with_peers == PEERLESS
    # MAJORITY Endorsement counts every organisation of the channel, peerless ones too
    # (Fabric's implicitmeta.go): with 6 that is 4, all four peers, and one peer down would
    # stop every write. Hence an explicit Signature policy over the peer organisations.
    assert (len(organisations), len(with_peers)) == (6, 4)
    assert len(organisations) // 2 + 1 == len(with_peers)
    policies = channel_profile()["Application"]["Policies"]
    for name in ("Endorsement", "LifecycleEndorsement"):
        assert policies[name]["Type"] == "Signature", name


def test_three_of_the_four_peer_organisations_endorse_no_two_can_and_one_may_be_down():
    _, with_peers = channel_organisations()
    # The chaincode's (approveformyorg without --signature-policy) and the approvals of its
    # definition: the same rule.
    for name in ("Endorsement", "LifecycleEndorsement"):
        policy = application_policy(name)
        assert set(policy.organisations) == with_peers, name
        assert policy.threshold == 3, name
        for endorsers in combinations(sorted(with_peers), policy.threshold - 1):
            assert not policy.satisfied_by(endorsers), (name, endorsers)
        for down in with_peers:
            assert policy.satisfied_by(with_peers - {down}), (name, down)
        # The peerless organisations add nothing to two peer organisations.
        for pair in combinations(sorted(with_peers), 2):
            assert not policy.satisfied_by({*pair, *PEERLESS}), (name, pair)


CONFIGTXGEN_RUN = ROOT / "tests/fixtures/fabric/configtxgen-2.5.16-application-policies.json"


def test_the_endorsement_policy_is_read_as_configtxgen_encodes_it():
    """The recorded configtxgen 2.5.16 run: the rules it was made from are configtx.yaml's, and
    its encoding (n of these principals) is what the test peer and the tests above read."""
    recorded = json.loads(CONFIGTXGEN_RUN.read_text())
    policies = channel_profile()["Application"]["Policies"]
    assert recorded["configtx_rules"] == policies, "configtx.yaml changed: run configtxgen again"
    assert set(recorded["organisations"]) == channel_organisations()[0]
    for name in ("Endorsement", "LifecycleEndorsement"):
        encoded = recorded["policies"][name]["value"]
        principals = [i["principal"] for i in encoded["identities"]]
        assert {p["role"] for p in principals} == {"PEER"}, name
        parsed = application_policy(name)
        assert encoded["rule"]["n_out_of"]["n"] == parsed.threshold, name
        assert [p["msp_identifier"] for p in principals] == list(parsed.organisations), name


def test_a_majority_of_admins_is_reached_by_the_four_peer_organisations_alone():
    organisations, with_peers = channel_organisations()
    policies = channel_profile()["Application"]["Policies"]
    assert policies["Admins"] == {"Type": "ImplicitMeta", "Rule": "MAJORITY Admins"}
    # 4 of 6: the four together change the channel's application configuration, three do not.
    assert len(with_peers) == len(organisations) // 2 + 1


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
    assert cas == {
        "ca-lto",
        "ca-hpg",
        "ca-insurance",
        "ca-emission",
        "ca-dealer",
        "ca-lender",
        "ca-orderer",
    }
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
    assert checked >= 7 * 2 + 10  # each CA's cert and key, each node's TLS files


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
        "DEALERS": " ".join(MEMBERS["dealer"]),
        "LENDERS": " ".join(MEMBERS["lender"]),
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


# The members of each many-member kind that `identities` enrols (DEALERS, LENDERS).
MEMBERS = {
    "dealer": ("toyota-manila-bay", "honda-cebu"),
    "lender": ("banco-de-oro", "bpi-family"),
}
MEMBER_MSPS = {"dealer": "DealerMSP", "lender": "LenderMSP"}


def test_network_sh_enrols_each_dealer_and_lender_with_its_code_as_its_kinds_attribute(tmp_path):
    network, calls = _run_network_script(tmp_path, generated())
    registers = [call for call in calls if call[:2] == ["fabric-ca-client", "register"]]
    expected = [(kind, code) for kind, codes in MEMBERS.items() for code in codes]
    assert [call[call.index("--id.name") + 1] for call in registers] == [c for _, c in expected]
    services = load("compose.yaml")["services"]
    enrols = [call for call in calls if call[:2] == ["fabric-ca-client", "enroll"]]
    for call, (kind, code) in zip(registers, expected, strict=True):
        assert call[call.index("--id.attrs") + 1] == f"talaan.{kind}={code}:ecert"
        assert call[call.index("--id.type") + 1] == "client"
        assert call[call.index("--caname") + 1] == f"ca-{kind}"
        # Registered at, and enrolled from, that kind's own CA.
        port = services[f"ca-{kind}"]["environment"]["FABRIC_CA_SERVER_PORT"]
        mine = [e for e in enrols if e[e.index("--caname") + 1] == f"ca-{kind}"]
        assert mine and all(f"@localhost:{port}" in e[e.index("-u") + 1] for e in mine)
        # Where the fabric backend looks for the member's signer (ledger/fabric/identity.py).
        folder = network / "identities" / MEMBER_MSPS[kind] / code
        assert (folder / "cert.pem").read_text() == f"talaan.{kind}={code}:ecert"
        assert (folder / "key.pem").exists()
        assert (folder.parent / "mspid").read_text().strip() == MEMBER_MSPS[kind]


def test_network_sh_enrols_one_member_by_command_and_refuses_a_code_that_is_not_one(tmp_path):
    network, _ = _run_network_script(tmp_path, generated())
    script = network / "scripts" / "network.sh"
    env = {
        "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin",
        "STUB_LOG": str(tmp_path / "calls.log"),
        "HOME": str(tmp_path),
    }
    done = subprocess.run(
        ["bash", str(script), "enrolLender", "security-bank"], env=env, capture_output=True
    )
    assert done.returncode == 0, done.stderr
    cert = network / "identities" / "LenderMSP" / "security-bank" / "cert.pem"
    assert cert.read_text() == "talaan.lender=security-bank:ecert"
    refused = subprocess.run(
        ["bash", str(script), "enrolLender", "../LTOMSP"], env=env, capture_output=True, text=True
    )
    assert refused.returncode == 64
    assert "enrolLender: '../LTOMSP' is not a lender code" in refused.stderr


def test_the_chaincode_package_carries_the_version_the_readme_upgrades_to(tmp_path):
    _run_network_script(tmp_path, generated())
    script = (NETWORK / "scripts" / "network.sh").read_text()
    version = re.search(r"CC_VERSION=\$\{CC_VERSION:-([\d.]+)\}", script)
    assert version, "network.sh no longer defaults CC_VERSION"
    package = tmp_path / "fabric-network" / "talaan.tar.gz"
    with tarfile.open(package) as archive:
        metadata = archive.extractfile("metadata.json")
        assert metadata is not None
        assert f'"label": "talaan_{version[1]}"' in metadata.read().decode()
    assert f"CC_VERSION={version[1]} " in (NETWORK / "README.md").read_text()
