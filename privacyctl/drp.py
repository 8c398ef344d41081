"""`privacyctl drp add-agent|list-agents|remove-agent|business`: the compliance team's registry
of authorized agents (DRP 1.0) through the API (POST/GET /drp/agents, DELETE
/drp/agents/{agentId}, GET /drp/business)."""

from __future__ import annotations

import argparse
from typing import Any

from privacyctl.client import ApiClient, segment


def add_parser(commands: Any) -> None:
    drp = commands.add_parser("drp", help="authorized agents (Data Rights Protocol 1.0)")
    actions = drp.add_subparsers(dest="drp_command", required=True, metavar="COMMAND")
    add = actions.add_parser("add-agent", help="register an agent (compliance group)")
    add.add_argument("agent_id")
    add.add_argument("--verify-key", required=True, help="its Ed25519 verify key, base64")
    add.add_argument(
        "--trusted",
        action="store_true",
        help="confirm its requests on receipt (else they wait in the queue for a staff member)",
    )
    actions.add_parser("list-agents", help="the registered agents")
    remove = actions.add_parser("remove-agent", help="remove an agent: its tokens stop working")
    remove.add_argument("agent_id")
    actions.add_parser("business", help="this business's DRP id (agents sign it)")


def run_drp(args: argparse.Namespace, client: ApiClient) -> tuple[dict[str, Any], str]:
    """The API's answer, and its text output."""
    if args.drp_command == "add-agent":
        body = {"agentId": args.agent_id, "verifyKey": args.verify_key, "trusted": args.trusted}
        agent = client.call("POST", "/drp/agents", body)
        return agent, _line(agent)
    if args.drp_command == "list-agents":
        listed = client.call("GET", "/drp/agents")
        lines = [_line(a) for a in listed["agents"]] or ["no agents registered"]
        return listed, "\n".join(lines)
    if args.drp_command == "remove-agent":
        client.call("DELETE", f"/drp/agents/{segment(args.agent_id)}")
        return {"agentId": args.agent_id, "removed": True}, f"removed {args.agent_id}"
    business = client.call("GET", "/drp/business")
    return business, str(business["businessId"])


def _line(agent: dict[str, Any]) -> str:
    trust = "trusted (confirmed on receipt)" if agent["trusted"] else "confirmed from the queue"
    return (
        f"{agent['agentId']}  {trust}  key {agent['verifyKey']}  "
        f"registered by {agent['registeredBy']} at {agent['registeredAt']}"
    )
