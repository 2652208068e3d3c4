"""Analyzing again replaces a reviewer's pending findings; what people decided stays.

A reviewer who presses "Analyze all" twice must not get every finding twice. Through a real
`redline serve` (offline reviewer), over the websocket, with a second tab watching."""

from __future__ import annotations

import httpx

from tests.client import Socket, upload


async def run_all(sock: Socket) -> list[str]:
    reply = await sock.request({"op": "analyze"})
    assert reply["ok"], reply
    jobs = [j["job_id"] for j in reply["data"]["jobs"]]
    await sock.wait_for(lambda: all(sock.terminal(j) for j in jobs), 60)
    assert all(sock.terminal(j)[0]["kind"] == "job.completed" for j in jobs)
    return jobs


async def snapshot(base: str, review: dict) -> dict:
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {review['token']}"}) as http:
        return (await http.get(f"/api/reviews/{review['review_id']}")).json()


def signature(item: dict) -> tuple:
    return item["section_id"], item["description"], item["quote"]


async def test_analyzing_again_replaces_pending_findings_and_keeps_decisions(server):
    review = await upload(server)
    sock = await Socket(server, review["review_id"], review["token"]).connect()
    other = await Socket(server, review["review_id"], review["token"], name="colleague").connect()
    await run_all(sock)
    first = (await snapshot(server, review))["items"]
    assert len(first) >= 6
    accepted, rejected = first[0], first[1]
    for item, decision in ((accepted, "accepted"), (rejected, "rejected")):
        reply = await sock.request({"op": "decide", "item_id": item["id"], "decision": decision})
        assert reply["ok"], reply

    await run_all(sock)
    second = (await snapshot(server, review))["items"]
    pending_before = {signature(i) for i in first if i["id"] not in (accepted["id"], rejected["id"])}
    pending_after = [signature(i) for i in second if i["decision"] == "pending"]
    assert len(pending_after) == len(set(pending_after)), "no finding twice"
    assert set(pending_after) == pending_before, "the same distinct pending findings"
    by_id = {i["id"]: i for i in second}
    assert by_id[accepted["id"]]["decision"] == "accepted" and by_id[rejected["id"]]["decision"] == "rejected"
    assert [signature(i) for i in second].count(signature(accepted)) == 1, "a decided finding is not added again"
    assert [signature(i) for i in second].count(signature(rejected)) == 1

    # Every tab saw the replacement as events.
    removed = {e["data"]["item_id"] for e in other.events if e["kind"] == "item.removed"}
    assert removed == {i["id"] for i in first} - {accepted["id"], rejected["id"]}
    assert all(e["data"].get("reason") == "replaced" for e in other.events if e["kind"] == "item.removed")
    await sock.close()
    await other.close()
