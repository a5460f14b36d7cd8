"""The one place that imports ``fabric-chaincode-python``, with its import-time defect contained.

Importing ``fabric_chaincode_python.fabric_shim`` (2.5.4) calls ``logging.basicConfig`` at
DEBUG level, which turns the host process's root logger to DEBUG and logs every proposal
(and, inside Django, every SQL query). We import it once here and put the root logger back.
"""

from __future__ import annotations

import logging


def _import_contract_api():  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        from fabric_chaincode_python import fabric_contract_api
    finally:
        root.setLevel(level)
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
    return fabric_contract_api


_api = _import_contract_api()
Contract = _api.Contract
ContractChaincode = _api.ContractChaincode
TransactionContext = _api.TransactionContext

__all__ = ["Contract", "ContractChaincode", "TransactionContext"]
