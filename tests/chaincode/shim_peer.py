"""The peer's side of the chaincode shim protocol, scripted, to drive the real shim in tests.

Not a peer: it registers, sends TRANSACTION messages with a signed proposal naming the creator,
answers the shim's state calls from a dict (failing the keys it is told to), and commits a
transaction's writes when the shim answers COMPLETED with a status below 400.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import grpc
from fabric_protos.common import common_pb2
from fabric_protos.ledger.queryresult import kv_query_result_pb2
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import (
    chaincode_pb2,
    chaincode_shim_pb2,
    chaincode_shim_pb2_grpc,
    proposal_pb2,
    proposal_response_pb2,
)

from chaincode.fabric_shim_fixes import ChaincodeService
from chaincode.server import new_chaincode
from chaincode.shim import shim_server

Message = chaincode_shim_pb2.ChaincodeMessage
CHANNEL = "clearance"
TX_SECONDS = 1_790_000_000  # 2026-09-21T14:13:20Z


def signed_proposal(
    tx_id: str, args: list[bytes], msp_id: str, certificate: bytes
) -> proposal_pb2.SignedProposal:
    """A proposal as a client signs it (the shim reads creator, time and input from it)."""
    creator = identities_pb2.SerializedIdentity(mspid=msp_id, id_bytes=certificate)
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.HeaderType.ENDORSER_TRANSACTION, channel_id=CHANNEL, tx_id=tx_id
    )
    channel_header.timestamp.seconds = TX_SECONDS
    header = common_pb2.Header(
        channel_header=channel_header.SerializeToString(),
        signature_header=common_pb2.SignatureHeader(
            creator=creator.SerializeToString(), nonce=b"nonce"
        ).SerializeToString(),
    )
    spec = chaincode_pb2.ChaincodeInvocationSpec(
        chaincode_spec=chaincode_pb2.ChaincodeSpec(input=chaincode_pb2.ChaincodeInput(args=args))
    )
    payload = proposal_pb2.ChaincodeProposalPayload(input=spec.SerializeToString())
    proposal = proposal_pb2.Proposal(
        header=header.SerializeToString(), payload=payload.SerializeToString()
    )
    return proposal_pb2.SignedProposal(
        proposal_bytes=proposal.SerializeToString(), signature=b"not checked by the shim"
    )


class ScriptedPeer:
    """Connect to a chaincode server and run transactions on one shim stream."""

    def __init__(self, channel: grpc.aio.Channel, *, state: dict[str, bytes] | None = None):
        self.channel = channel
        self.state: dict[str, bytes] = {} if state is None else state
        self.failing_puts: set[str] = set()
        self.failing_gets: set[str] = set()
        self.registered_as = ""
        self._outgoing: asyncio.Queue[Any] = asyncio.Queue()
        self._writes: dict[str, dict[str, bytes | None]] = {}
        self._waiting: dict[str, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)

    async def __aenter__(self) -> ScriptedPeer:
        self._call = chaincode_shim_pb2_grpc.ChaincodeStub(self.channel).Connect(self._send())
        register = await self._call.read()
        assert register.type == Message.REGISTER, register
        self.registered_as = chaincode_pb2.ChaincodeID.FromString(register.payload).name
        await self._outgoing.put(Message(type=Message.REGISTERED))
        await self._outgoing.put(Message(type=Message.READY))
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._outgoing.put(None)
        self._reader.cancel()
        self._call.cancel()

    async def _send(self) -> Any:
        while (message := await self._outgoing.get()) is not None:
            yield message

    async def invoke(
        self, *args: str, msp_id: str = "LTOMSP", certificate: bytes = b""
    ) -> tuple[proposal_response_pb2.Response, Any]:
        """Run one transaction; return the chaincode's response and the shim's last message."""
        tx_id = f"tx{next(self._ids)}"
        encoded = [arg.encode() for arg in args]
        done = self._waiting[tx_id] = asyncio.get_running_loop().create_future()
        await self._outgoing.put(
            Message(
                type=Message.TRANSACTION,
                txid=tx_id,
                channel_id=CHANNEL,
                payload=chaincode_pb2.ChaincodeInput(args=encoded).SerializeToString(),
                proposal=signed_proposal(tx_id, encoded, msp_id, certificate),
            )
        )
        final = await done
        del self._waiting[tx_id]
        response = proposal_response_pb2.Response()
        if final.type == Message.COMPLETED:
            response.ParseFromString(final.payload)
            if response.status < 400:
                for key, value in self._writes.pop(tx_id, {}).items():
                    if value is None:
                        self.state.pop(key, None)
                    else:
                        self.state[key] = value
        return response, final

    def _answer(self, request: Any, payload: bytes = b"", error: str = "") -> None:
        self._outgoing.put_nowait(
            Message(
                type=Message.ERROR if error else Message.RESPONSE,
                payload=error.encode() if error else payload,
                txid=request.txid,
                channel_id=request.channel_id,
            )
        )

    async def _read(self) -> None:
        while (message := await self._call.read()) is not grpc.aio.EOF:
            kind = message.type
            if kind == Message.GET_STATE:
                key = chaincode_shim_pb2.GetState.FromString(message.payload).key
                if key in self.failing_gets:
                    self._answer(message, error=f"could not read {key}")
                else:
                    self._answer(message, self.state.get(key, b""))
            elif kind == Message.PUT_STATE:
                put = chaincode_shim_pb2.PutState.FromString(message.payload)
                if put.key in self.failing_puts:
                    self._answer(message, error=f"could not write {put.key}")
                else:
                    self._writes.setdefault(message.txid, {})[put.key] = put.value
                    self._answer(message)
            elif kind == Message.DEL_STATE:
                key = chaincode_shim_pb2.DelState.FromString(message.payload).key
                self._writes.setdefault(message.txid, {})[key] = None
                self._answer(message)
            elif kind == Message.GET_HISTORY_FOR_KEY:
                key = chaincode_shim_pb2.GetHistoryForKey.FromString(message.payload).key
                results = []
                if key in self.state:
                    modification = kv_query_result_pb2.KeyModification(
                        tx_id="tx-earlier", value=self.state[key]
                    )
                    results.append(
                        chaincode_shim_pb2.QueryResultBytes(
                            resultBytes=modification.SerializeToString()
                        )
                    )
                query = chaincode_shim_pb2.QueryResponse(results=results, has_more=False, id="q")
                self._answer(message, query.SerializeToString())
            elif kind == Message.QUERY_STATE_CLOSE:
                self._answer(message, chaincode_shim_pb2.QueryResponse().SerializeToString())
            elif kind in (Message.COMPLETED, Message.ERROR):
                waiting = self._waiting.get(message.txid)
                if waiting and not waiting.done():
                    waiting.set_result(message)


async def start_server(*, fixed: bool = True) -> tuple[grpc.aio.Server, str]:
    """Serve the Talaan chaincode on a loopback port, with the fixes or the library as it is."""
    server = grpc.aio.server()
    port = server.add_insecure_port("127.0.0.1:0")
    service_class = ChaincodeService if fixed else shim_server.ChaincodeService
    chaincode_shim_pb2_grpc.add_ChaincodeServicer_to_server(
        service_class("talaan_1.0:test", new_chaincode()), server
    )
    await server.start()
    return server, f"127.0.0.1:{port}"
