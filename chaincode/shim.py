"""The one place that imports ``fabric-chaincode-python``, with its import-time defect contained.

Importing ``fabric_chaincode_python.fabric_shim`` (2.5.4) calls ``logging.basicConfig`` at
DEBUG level, which turns the host process's root logger to DEBUG and logs every proposal
(and, inside Django, every SQL query). We import it once here and put the root logger back
(defect e of ``chaincode.fabric_shim_fixes``); every other module takes the library from here.
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType
from typing import Any

_MODULES = (
    "fabric_chaincode_python.fabric_contract_api",
    "fabric_chaincode_python.fabric_contract_api.contractapi.contract_chaincode",
    "fabric_chaincode_python.fabric_contract_api.contractapi.transaction_context",
    "fabric_chaincode_python.fabric_shim.handler",
    "fabric_chaincode_python.fabric_shim.logging",
    "fabric_chaincode_python.fabric_shim.server",
    "fabric_chaincode_python.fabric_shim.stub",
)


def _import_library() -> dict[str, ModuleType]:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        return {name.rsplit(".", 1)[1]: importlib.import_module(name) for name in _MODULES}
    finally:
        root.setLevel(level)
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)


_library = _import_library()
_api = _library["fabric_contract_api"]
Contract = _api.Contract
ContractChaincode = _api.ContractChaincode
TransactionContext = _api.TransactionContext

# The library ships no type information, so its modules are Any here, as they would be
# through a static import; ours subclass their classes.
contract_chaincode: Any = _library["contract_chaincode"]
transaction_context: Any = _library["transaction_context"]
shim_handler: Any = _library["handler"]
shim_server: Any = _library["server"]
shim_stub: Any = _library["stub"]
# The logger the library writes every message to (it borrows the name "asyncio").
LIBRARY_LOGGER: logging.Logger = _library["logging"].LOGGER

__all__ = [
    "LIBRARY_LOGGER",
    "Contract",
    "ContractChaincode",
    "TransactionContext",
    "contract_chaincode",
    "shim_handler",
    "shim_server",
    "shim_stub",
    "transaction_context",
]
