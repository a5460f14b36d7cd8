"""The Fabric Gateway ledger backend: client identities, messages, the gRPC client."""
