#!/usr/bin/env bash
# The Talaan Fabric network:
#   scripts/network.sh up | createChannel | deployCC | identities | enrolDealer CODE
#                      | enrolLender CODE | down
# Needs Docker (compose v2) and the Fabric 2.5 binaries (cryptogen, configtxgen, osnadmin, peer,
# fabric-ca-client) on PATH. Run from anywhere; everything is relative to fabric-network/.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
export FABRIC_CFG_PATH="$PWD"  # configtx.yaml; the peer CLI finds its core.yaml in config/
CHANNEL=clearance
CC_NAME=talaan
# 1.1: TransferOwnership, and RegisterVehicle names the vehicle's owner pseudonym (issue 13).
# 1.2: RecordOrigin and DeregisterVehicle (issue 14); PlaceHold, LiftHold, AnnotateMortgage,
# ReleaseMortgage and the LENDER clearance kind, and a held VIN refused (issue 15). A channel
# that runs an earlier definition upgrades with the next sequence (see the README).
CC_VERSION=${CC_VERSION:-1.2}
CC_SEQUENCE=${CC_SEQUENCE:-1}
# The organisations with a peer; the dealers' and lenders' organisations have none, see below.
ORGS=(lto hpg insurance emission)
declare -A MSP=([lto]=LTOMSP [hpg]=HPGMSP [insurance]=InsuranceMSP [emission]=EmissionMSP)
declare -A PORT=([lto]=7051 [hpg]=8051 [insurance]=9051 [emission]=10051)
ORDERER_DIR=organizations/ordererOrganizations/orderer.talaan.example
ORDERER_CA=$ORDERER_DIR/tlsca/tlsca.orderer.talaan.example-cert.pem
compose() { docker compose -f compose.yaml "$@"; }
# The kinds of many members, each one MSP with no peer and its own CA (compose service
# ca-<kind>, domain <kind>.talaan.example), which enrols one identity per member with the
# member's code in the kind's attribute (chaincode/rules.py MEMBER_ATTRIBUTES).
MEMBER_KINDS=(dealer lender)
declare -A MEMBER_MSP=([dealer]=DealerMSP [lender]=LenderMSP)
declare -A MEMBER_ATTRIBUTE=([dealer]=talaan.dealer [lender]=talaan.lender)
declare -A MEMBER_CA_PORT=([dealer]=12054 [lender]=13054)
# The members `identities` enrols: space-separated codes, each its Organisation code in Talaan.
declare -A MEMBER_CODES=([dealer]="${DEALERS:-}" [lender]="${LENDERS:-}")

as_admin() {  # point the peer CLI at an organisation's peer, as its admin
  local org=$1 dom="$1.talaan.example"
  export CORE_PEER_LOCALMSPID=${MSP[$org]}
  export CORE_PEER_TLS_ENABLED=true
  export CORE_PEER_TLS_ROOTCERT_FILE=$PWD/organizations/peerOrganizations/$dom/tlsca/tlsca.$dom-cert.pem
  export CORE_PEER_MSPCONFIGPATH=$PWD/organizations/peerOrganizations/$dom/users/Admin@$dom/msp
  export CORE_PEER_ADDRESS=localhost:${PORT[$org]}
  export FABRIC_CFG_PATH=${FABRIC_CONFIG_DIR:-$PWD/config}  # core.yaml from the Fabric binaries
}

up() {
  [ -d organizations ] || cryptogen generate --config=crypto-config.yaml --output=organizations
  compose up -d
}

create_channel() {
  mkdir -p channel-artifacts
  FABRIC_CFG_PATH=$PWD configtxgen -profile ClearanceChannel -channelID $CHANNEL \
    -outputBlock channel-artifacts/$CHANNEL.block
  local admin=$ORDERER_DIR/users/Admin@orderer.talaan.example/tls
  osnadmin channel join --channelID $CHANNEL --config-block channel-artifacts/$CHANNEL.block \
    -o localhost:7053 --ca-file "$ORDERER_CA" \
    --client-cert "$admin/client.crt" --client-key "$admin/client.key"
  for org in "${ORGS[@]}"; do
    as_admin "$org"
    # The orderer needs a moment to start the channel; retry the join briefly.
    for attempt in 1 2 3 4 5; do
      peer channel join -b channel-artifacts/$CHANNEL.block && break
      sleep $((attempt * 2))
    done
  done
}

deploy_cc() {
  # A chaincode-as-a-service package: only the address of the running chaincode server.
  local work; work=$(mktemp -d)
  cat >"$work/connection.json" <<JSON
{"address": "chaincode:9999", "dial_timeout": "10s", "tls_required": false}
JSON
  cat >"$work/metadata.json" <<JSON
{"type": "ccaas", "label": "${CC_NAME}_${CC_VERSION}"}
JSON
  tar -C "$work" -czf "$work/code.tar.gz" connection.json
  tar -C "$work" -czf "$CC_NAME.tar.gz" metadata.json code.tar.gz
  rm -rf "$work"

  for org in "${ORGS[@]}"; do as_admin "$org"; peer lifecycle chaincode install "$CC_NAME.tar.gz"; done
  as_admin lto
  local package_id
  package_id=$(peer lifecycle chaincode calculatepackageid "$CC_NAME.tar.gz")
  CHAINCODE_ID=$package_id compose up -d --build chaincode

  # No --signature-policy: the chaincode takes /Channel/Application/Endorsement from
  # configtx.yaml, 3 of the 4 organisations with a peer.
  for org in "${ORGS[@]}"; do
    as_admin "$org"
    peer lifecycle chaincode approveformyorg -o localhost:7050 \
      --ordererTLSHostnameOverride orderer.talaan.example --tls --cafile "$PWD/$ORDERER_CA" \
      --channelID $CHANNEL --name $CC_NAME --version "$CC_VERSION" \
      --package-id "$package_id" --sequence "$CC_SEQUENCE"
  done
  as_admin lto
  local peers=()
  for org in "${ORGS[@]}"; do
    local dom="$org.talaan.example"
    peers+=(--peerAddresses "localhost:${PORT[$org]}"
      --tlsRootCertFiles "$PWD/organizations/peerOrganizations/$dom/tlsca/tlsca.$dom-cert.pem")
  done
  peer lifecycle chaincode checkcommitreadiness --channelID $CHANNEL --name $CC_NAME \
    --version "$CC_VERSION" --sequence "$CC_SEQUENCE" --output json
  peer lifecycle chaincode commit -o localhost:7050 \
    --ordererTLSHostnameOverride orderer.talaan.example --tls --cafile "$PWD/$ORDERER_CA" \
    --channelID $CHANNEL --name $CC_NAME --version "$CC_VERSION" --sequence "$CC_SEQUENCE" \
    "${peers[@]}"
  peer lifecycle chaincode querycommitted --channelID $CHANNEL --name $CC_NAME
}

identities() {
  # One client identity per organisation for the app's fabric backend (FABRIC_IDENTITIES_DIR),
  # in a folder named by the MSP id, which is how the backend finds the signer of a change.
  for org in "${ORGS[@]}"; do
    local dom="$org.talaan.example" out="identities/${MSP[$org]}"
    local msp="organizations/peerOrganizations/$dom/users/User1@$dom/msp"
    mkdir -p "$out"
    cp "$msp/signcerts/"*.pem "$out/cert.pem"
    cp "$msp/keystore/"* "$out/key.pem"
    chmod 600 "$out/key.pem"
    printf '%s\n' "${MSP[$org]}" >"$out/mspid"
    cp "organizations/peerOrganizations/$dom/tlsca/tlsca.$dom-cert.pem" "$out/tlsca.pem"
    printf '%s\n' "peer0.$dom:${PORT[$org]}" >"$out/peer"
  done
  cp "$ORDERER_CA" identities/orderer-tlsca.pem
  for kind in "${MEMBER_KINDS[@]}"; do
    for code in ${MEMBER_CODES[$kind]}; do enrol_member "$kind" "$code"; done
  done
  echo "Client identities written to $PWD/identities"
}

enrol_member() {
  # One member's own identity from its kind's CA (a dealer's from ca-dealer, a lender's from
  # ca-lender), its code carried in the certificate as the kind's attribute (talaan.dealer,
  # talaan.lender), which the chaincode reads; written where the app's fabric backend looks for
  # that member's signer: identities/<MSP id>/<code>/{cert.pem,key.pem}.
  local kind=$1 code=${2:-}
  local msp=${MEMBER_MSP[$kind]} attribute=${MEMBER_ATTRIBUTE[$kind]}
  local url="localhost:${MEMBER_CA_PORT[$kind]}" dom="$kind.talaan.example"
  if ! [[ $code =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$ ]]; then
    echo "enrol${kind^}: '$code' is not a $kind code (letters, digits, - and _)" >&2; exit 64
  fi
  local out="identities/$msp/$code"
  if [ -f "$out/cert.pem" ]; then echo "$code is already enrolled in $out"; return; fi
  local home; home=$(mktemp -d)
  export FABRIC_CA_CLIENT_HOME="$home/admin"
  local tls=(--caname "ca-$kind"
    --tls.certfiles "$PWD/organizations/peerOrganizations/$dom/ca/ca.$dom-cert.pem")
  fabric-ca-client enroll -u "https://admin:${CA_ADMIN_PASSWORD:-adminpw}@$url" "${tls[@]}"
  local secret; secret=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  fabric-ca-client register "${tls[@]}" --id.name "$code" --id.secret "$secret" \
    --id.type client --id.attrs "$attribute=$code:ecert"
  fabric-ca-client enroll -u "https://$code:$secret@$url" "${tls[@]}" -M "$home/$code/msp"
  mkdir -p "$out"
  cp "$home/$code/msp/signcerts/"*.pem "$out/cert.pem"
  cp "$home/$code/msp/keystore/"*_sk "$out/key.pem"
  chmod 600 "$out/key.pem"
  printf '%s\n' "$msp" >"identities/$msp/mspid"
  rm -rf "$home"
  echo "${kind^} $code enrolled into $PWD/$out"
}

down() {
  compose down --volumes --remove-orphans
  rm -rf organizations channel-artifacts identities "$CC_NAME.tar.gz"
}

case "${1:-}" in
  up) up ;;
  createChannel) create_channel ;;
  deployCC) deploy_cc ;;
  identities) identities ;;
  enrolDealer) enrol_member dealer "${2:-}" ;;
  enrolLender) enrol_member lender "${2:-}" ;;
  down) down ;;
  *) echo "usage: $0 up|createChannel|deployCC|identities|enrolDealer CODE|enrolLender CODE|down" >&2
    exit 64 ;;
esac
