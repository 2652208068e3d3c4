"""The Redis key layout, in one place.

Every key of a review carries the review id as a hash tag (`{rid}`), so all of a
review's keys live in one Redis Cluster slot and one Lua script may touch them all.

| key                          | type   | holds                                               |
| ---------------------------- | ------ | --------------------------------------------------- |
| rl:{rid}:review              | hash   | title, kind, filename, token hash, created, usage,  |
|                              |        | date (the day the document gives itself), version   |
| rl:{rid}:sections            | hash   | section id -> Section JSON                          |
| rl:{rid}:secstate            | hash   | section id -> {"status","progress","job_id"} JSON   |
| rl:{rid}:items               | hash   | item id -> Item JSON (decision excluded)            |
| rl:{rid}:decisions           | hash   | item id -> {"decision","by","at","reason"} JSON     |
| rl:{rid}:chat                | list   | ChatMessage JSON, in order                          |
| rl:{rid}:jobs                | hash   | job id -> JobRecord JSON (as queued)                |
| rl:{rid}:jobstate            | hash   | job id -> "status:attempt" (the terminal-once gate) |
| rl:{rid}:jobprogress         | hash   | job id -> progress 0..1                             |
| rl:{rid}:jobresult           | hash   | job id -> {"error"|"result"} JSON                   |
| rl:{rid}:files               | hash   | "original" (bytes), "guidelines" (text)             |
| rl:{rid}:usage               | hash   | token counters (input, output, cache_read, ...)     |
| rl:{rid}:events              | stream | the event log (bounded)                             |
| rl:{rid}:last                | string | id of the last event (read with snapshots)          |
| rl:{rid}:audit               | stream | the audit trail: every change, never trimmed        |
| rl:{rid}:presence            | hash   | connection id -> {"name","server","ts"} JSON        |
| rl:{rid}:ev                  | pubsub | channel: event frames and presence frames           |
| rl:cancel                    | pubsub | channel: job ids to cancel at once (workers listen) |
| rl:reviews                   | zset   | review id -> created (epoch s), for retention       |
| rl:retention:lock            | string | one sweeper of expired reviews at a time            |
| rl:metrics                   | hash   | fleet-wide counters (jobs/fleet_metrics.py)         |
| rl:jobs:recent               | list   | ids of the last 500 finished jobs (admin page)      |
| rl:{model}:paused_until      | string | fleet-wide model pause after a 429/529              |
| rl:{model}:rate:{kind}       | zset   | model requests admitted in the window (limits.py)   |
| rl:{model}:slots             | zset   | model-call holder -> expiry ms (concurrency cap)    |
| rl:{model}:warm:{digest}     | string | prompt-cache warm-up marker                         |
"""

from __future__ import annotations

CANCEL_CHANNEL = "rl:cancel"
REVIEWS_INDEX = "rl:reviews"
RETENTION_LOCK = "rl:retention:lock"
RECENT_JOBS = "rl:jobs:recent"
MODEL_PAUSED_UNTIL = "rl:{model}:paused_until"


class ReviewKeys:
    __slots__ = ("rid", "review", "sections", "secstate", "items", "decisions", "chat", "jobs",
                 "jobstate", "jobprogress", "jobresult", "files", "usage", "events", "last",
                 "presence", "channel", "audit")

    def __init__(self, rid: str) -> None:
        p = f"rl:{{{rid}}}:"
        self.rid = rid
        self.review = p + "review"
        self.sections = p + "sections"
        self.secstate = p + "secstate"
        self.items = p + "items"
        self.decisions = p + "decisions"
        self.chat = p + "chat"
        self.jobs = p + "jobs"
        self.jobstate = p + "jobstate"
        self.jobprogress = p + "jobprogress"
        self.jobresult = p + "jobresult"
        self.files = p + "files"
        self.usage = p + "usage"
        self.events = p + "events"
        self.last = p + "last"
        self.presence = p + "presence"
        self.channel = p + "ev"
        self.audit = p + "audit"

    def all_data_keys(self) -> list[str]:
        return [self.review, self.sections, self.secstate, self.items, self.decisions, self.chat,
                self.jobs, self.jobstate, self.jobprogress, self.jobresult, self.files, self.usage,
                self.events, self.last, self.presence, self.audit]


def rid_of_channel(channel: str) -> str:
    """'rl:{abc}:ev' -> 'abc'."""
    return channel[channel.index("{") + 1 : channel.index("}")]


def rid_of_job(job_id: str) -> str:
    """Job ids are '<rid>.<random>': the review of a job is known without a lookup."""
    return job_id.split(".", 1)[0]
