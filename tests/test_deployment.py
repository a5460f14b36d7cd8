"""The production compose file stays valid: it cannot be run here (no Docker engine)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_compose_file_describes_the_production_shape():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"db", "redis", "migrate", "web", "worker", "beat"} <= set(services)
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        for secret in service.get("secrets", []):
            assert secret in compose["secrets"], (name, secret)
        for dependency in service.get("depends_on", {}):
            assert dependency in services, (name, dependency)
    web_env = services["web"]["environment"]
    assert web_env["DEBUG"] == "0" and web_env["SECRET_KEY_FILE"].startswith("/run/secrets/")
    # The embedded ledger's writes leave integration to the one sequencer service.
    assert web_env["LEDGER_SEQUENCER"] == "sequencer"
    assert services["ledger-sequencer"]["command"][-1] == "ledger_sequencer"
    assert (ROOT / "Dockerfile").exists()


def test_the_fabric_override_joins_the_peers_network_and_runs_the_listener():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    fabric = yaml.safe_load((ROOT / "docker-compose.fabric.yml").read_text())
    peers = yaml.safe_load((ROOT / "fabric-network" / "compose.yaml").read_text())
    assert set(fabric["services"]) - {"ledger-listener"} <= set(compose["services"])
    assert fabric["networks"]["fabric"]["name"] == peers["networks"]["fabric"]["name"]
    listener = fabric["services"]["ledger-listener"]
    assert listener["command"][-1] == "ledger_listen"
    assert listener["environment"]["LEDGER_BACKEND"] == "fabric"
    for name in ("web", "worker"):
        assert fabric["services"][name]["environment"]["LEDGER_BACKEND"] == "fabric"
