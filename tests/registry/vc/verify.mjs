// Verifies a Talaan Certificate of Registration credential as an outside verifier would, with
// code we did not write (panva's `jose`): discover the issuer's keys, verify the vc+jwt,
// fetch and verify its Bitstring Status List credential, and read the credential's bit.
//
//   node verify.mjs <issuer URL> <file holding the vc+jwt>
//
// Prints one JSON line: {"ok": true|false, "step": ..., "error": ..., ...}. Exit status 0 when
// the credential verifies and its status bit is 0, 1 when it does not, 2 on bad usage.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { calculateJwkThumbprintUri, createLocalJWKSet, jwtVerify } from 'jose';

const VC_CONTEXT = 'https://www.w3.org/ns/credentials/v2';
const MINIMUM_ENTRIES = 131072;

class Refused extends Error {
  constructor(step, message) {
    super(message);
    this.step = step;
  }
}

function expect(condition, step, message) {
  if (!condition) throw new Refused(step, message);
}

async function fetchOk(url, accept) {
  const response = await fetch(url, { headers: { accept } });
  expect(response.ok, 'fetch', `${url} answered ${response.status}`);
  return response;
}

// The issuer's JWK set, found through its well-known metadata (VC-JOSE-COSE § Well-Known URIs).
async function issuerKeys(issuer) {
  const metadataUrl = new URL('/.well-known/jwt-vc-issuer', issuer);
  const metadata = await (await fetchOk(metadataUrl, 'application/json')).json();
  expect(metadata.issuer === issuer, 'metadata', `metadata names issuer ${metadata.issuer}`);
  const jwks = await (await fetchOk(metadata.jwks_uri, 'application/jwk-set+json')).json();
  return jwks;
}

// A vc+jwt verified against the issuer's keys: signature, typ, alg, and a kid that is the
// thumbprint of the key that verified it.
async function verifyVcJwt(token, issuer, jwks) {
  let verified;
  try {
    verified = await jwtVerify(token, createLocalJWKSet(jwks), {
      typ: 'vc+jwt',
      algorithms: ['ES256', 'EdDSA'],
      issuer,
    });
  } catch (error) {
    throw new Refused('signature', `${error.code ?? error.name}: ${error.message}`);
  }
  const { payload, protectedHeader } = verified;
  expect(protectedHeader.cty === 'vc', 'header', `cty is ${protectedHeader.cty}`);
  const jwk = jwks.keys.find((key) => key.kid === protectedHeader.kid);
  expect(jwk !== undefined, 'header', `kid ${protectedHeader.kid} is not in the JWK set`);
  const thumbprint = await calculateJwkThumbprintUri(jwk);
  expect(thumbprint === protectedHeader.kid, 'header', `kid is not the key's thumbprint`);
  expect(Array.isArray(payload['@context']) && payload['@context'][0] === VC_CONTEXT,
    'credential', 'the first @context is not the VC 2.0 context');
  expect(payload.type.includes('VerifiableCredential'), 'credential', 'not a VerifiableCredential');
  expect(!('vc' in payload), 'credential', 'a "vc" claim is present');
  const issuerId = typeof payload.issuer === 'string' ? payload.issuer : payload.issuer?.id;
  expect(issuerId === payload.iss, 'credential', 'iss does not match issuer.id');
  expect(new Date(payload.validFrom) <= new Date(), 'credential', 'not valid yet');
  return { payload, protectedHeader };
}

// The Bitstring Status List validation algorithm: the bit at statusListIndex.
async function statusBit(entry, issuer, jwks) {
  expect(entry?.type === 'BitstringStatusListEntry', 'status', 'no BitstringStatusListEntry');
  const listToken = (await (await fetchOk(entry.statusListCredential, 'application/vc+jwt')).text()).trim();
  const { payload: list } = await verifyVcJwt(listToken, issuer, jwks);
  expect(list.type.includes('BitstringStatusListCredential'), 'status', 'not a status list');
  expect(list.id === entry.statusListCredential, 'status', 'the list has another id');
  const subject = list.credentialSubject;
  expect(subject.statusPurpose === entry.statusPurpose, 'status', 'status purposes differ');
  expect(subject.encodedList.startsWith('u'), 'status', 'encodedList is not multibase base64url');
  const bits = gunzipSync(Buffer.from(subject.encodedList.slice(1), 'base64url'));
  expect(bits.length * 8 >= MINIMUM_ENTRIES, 'status', `only ${bits.length * 8} entries`);
  const index = Number.parseInt(entry.statusListIndex, 10);
  expect(String(index) === entry.statusListIndex, 'status', 'statusListIndex is not an integer');
  expect(index < bits.length * 8, 'status', 'statusListIndex is out of range');
  return { index, bit: (bits[index >> 3] >> (7 - (index & 7))) & 1, purpose: subject.statusPurpose };
}

async function main() {
  const [issuer, credentialFile] = process.argv.slice(2);
  if (!issuer || !credentialFile) {
    console.error('usage: node verify.mjs <issuer URL> <file holding the vc+jwt>');
    process.exit(2);
  }
  const token = readFileSync(credentialFile, 'utf8').trim();
  try {
    const jwks = await issuerKeys(issuer);
    const { payload, protectedHeader } = await verifyVcJwt(token, issuer, jwks);
    const status = await statusBit(payload.credentialStatus, issuer, jwks);
    const ok = status.bit === 0;
    console.log(JSON.stringify({
      ok,
      step: ok ? 'done' : 'status',
      error: ok ? null : `status bit ${status.index} is set (${status.purpose})`,
      header: protectedHeader,
      id: payload.id,
      subject: payload.credentialSubject,
      status,
    }));
    process.exit(ok ? 0 : 1);
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    console.log(JSON.stringify({ ok: false, step: error.step, error: error.message }));
    process.exit(1);
  }
}

await main();
