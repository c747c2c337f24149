"""The embedded permissioned devnet: anvil behind an IPC socket, a JSON-RPC gateway, a journal.

Public API (the gateway, web3-free as it is, loads only when a devnet is actually run)::

    from ledger import devnet
    devnet.run(settings)            # coroutine: run the supervisor in this process
    devnet.start_detached([...])    # background supervisor, returns its runtime info
    devnet.status(); devnet.stop(); devnet.wait_ready(); devnet.gateway_url()
    devnet.DevnetSettings.load(block_time=..., port=...)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger.devnet._settings import DevnetPaths, DevnetSettings, GatewaySettings

if TYPE_CHECKING:
    from ledger.devnet._control import gateway_url, start_detached, status, stop, wait_ready
    from ledger.devnet._supervisor import run

__all__ = ["DevnetPaths", "DevnetSettings", "GatewaySettings", "gateway_url", "run", "start_detached", "status",
           "stop", "wait_ready"]

_LAZY = {"run": "_supervisor", "gateway_url": "_control", "start_detached": "_control", "status": "_control",
         "stop": "_control", "wait_ready": "_control"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ledger.devnet' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"ledger.devnet.{module}"), name)
