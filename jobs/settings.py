"""Every setting of Redline, in one place, read from the environment.

The contract's names (REDIS_URL, ANTHROPIC_API_KEY, ...) are kept as they are;
everything else is REDLINE_<NAME>. `docs/settings.md` and the README list them.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "redline"


EffortSetting = Literal["", "low", "medium", "high", "xhigh", "max"]

# Current, non-deprecated Claude model (the SDK warns on deprecated ids).
DEFAULT_MODEL = "claude-sonnet-5-5"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REDLINE_", extra="ignore", populate_by_name=True,
                                      protected_namespaces=("settings_",))  # model_* are our own names

    # --- contract settings -------------------------------------------------
    redis_url: str | None = Field(default=None, validation_alias=AliasChoices("REDIS_URL"))
    data_dir: Path = Field(default_factory=_default_data_dir)
    anthropic_api_key: str | None = Field(default=None, validation_alias=AliasChoices("ANTHROPIC_API_KEY"))
    anthropic_base_url: str | None = Field(default=None, validation_alias=AliasChoices("ANTHROPIC_BASE_URL"))
    model: str = DEFAULT_MODEL
    max_upload_mb: float = 16
    admin_token: str | None = None

    # --- Redis -------------------------------------------------------------
    redis_max_connections: int = 200
    redis_connect_timeout_s: float = 2.0
    redis_socket_timeout_s: float = 10.0

    # --- web server --------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8000
    allowed_origins: str = ""
    trust_proxy_headers: bool = False  # take the client's address from X-Forwarded-For (behind a proxy)  # comma separated; empty: same host as the request
    ws_max_message_bytes: int = 64 * 1024
    ws_queue_max: int = 1000  # frames buffered per socket before it is closed with 4408
    # Bytes a socket may have waiting to be sent (welcome snapshot, queued frames, the transport's
    # buffer) before it is closed with 4408: a client that never reads pins no more than this.
    ws_queue_max_bytes: int = 16 * 1024 * 1024
    ws_send_timeout_s: float = 30.0  # a welcome, replay or catch-up the client has not read by then: 4408
    ws_max_per_client: int = 50  # open sockets per client address (more: HTTP 429 before the upgrade)
    # Open connections per client address besides its websockets: `redline serve` lets one address
    # hold ws_max_per_client + this many connections at once, and answers the next with an immediate
    # 429 `too_many_connections`, before the web server builds anything for it. A burst of 500 at
    # once otherwise keeps ~14 MB of RSS after it ends (docs/reliability.md). 0 (or a websocket cap
    # of 0, or REDLINE_TRUST_PROXY_HEADERS, where every connection is the proxy's): no cap.
    http_max_connections_per_client: int = 50
    hub_check_interval_s: float = 2.0  # how often a server compares the reviews' logs with what it relayed
    # The web server's garbage-collector thresholds (gc.set_threshold), set once it has started. With
    # CPython's 700 young objects, each event's per-socket objects get promoted and full collections
    # stall every socket for ~100 ms at 1,000 sockets; 50,000 lets them die young (docs/benchmarks.md).
    gc_threshold: tuple[int, int, int] = (50_000, 20, 100)
    ws_ping_interval_s: float = 20.0
    shutdown_grace_s: float = 2.0  # a stopping server waits this long for connections to end
    presence_ttl_s: float = 60.0

    # --- retention -----------------------------------------------------------
    retention_days: float = 30.0
    retention_sweep_s: float = 3600.0

    # --- event log -----------------------------------------------------------
    event_log_maxlen: int = 10_000

    # --- jobs ---------------------------------------------------------------
    worker_concurrency: int = 4
    job_timeout_s: int = 600
    job_heartbeat_s: int = 5
    job_attempts: int = 2  # SAQ "retries" counts attempts
    sweep_interval_s: float = 2.0
    worker_shutdown_grace_s: float = 10.0
    abort_poll_s: float = 0.5
    progress_interval_s: float = 0.15  # throttle of job.progress events
    offline_pace_ms: float = 120.0  # pause between offline findings, so a review is watchable live
    # The offline rules run in a small process pool (never on the worker's event loop); a section (or a
    # chat answer) whose rules take longer than this fails with a message, and the pool carries on.
    offline_section_budget_s: float = 30.0
    offline_max_findings: int = 3  # findings per section at most, the most serious and surest first
    offline_processes: int = 2  # processes in that pool, per worker process

    # --- uploads (jobs/parsing.py, jobs/documents/) ------------------------------
    # Each upload is parsed in a child process with these limits; past them it is killed and refused.
    parse_timeout_s: float = 180.0  # CPU seconds (a 300-page PDF takes about a minute)
    parse_max_memory_mb: int = 1024  # the child's address space (RLIMIT_AS)
    parse_concurrency: int = 2  # parses at once per server process; more uploads wait
    max_document_chars: int = 2_000_000  # extracted text per document; more is refused (413 too_long)
    max_section_chars: int = 100_000  # a longer section is split into parts "Title (part 2 of 3)"
    max_inflated_mb: float = 64  # a .docx's parts, or a .pdf's compressed streams, once inflated

    # --- model --------------------------------------------------------------
    # max_tokens covers the model's thinking AND its answer (the 5.5 models think by default).
    max_tokens: int = 16_000
    max_tokens_chat: int = 8_000
    # output_config.effort per task (low | medium | high | xhigh | max; empty: the model's default).
    # Analysis wants care at a bounded cost; chat wants a quick answer; the test, a cheap call.
    effort_analysis: EffortSetting = "medium"
    effort_chat: EffortSetting = "low"
    effort_test: EffortSetting = "low"
    model_timeout_s: float = 60.0
    model_max_retries: int = 4
    min_confidence: float = 0.3
    model_retry_base_s: float = 0.5
    model_rpm_analysis: int = 50
    model_rpm_chat: int = 30
    model_rpm_test: int = 10
    model_rate_window_s: float = 60.0
    model_concurrency: int = 4
    model_max_pause_s: float = 60.0
    model_cache_warm_wait_s: float = 15.0

    # --- limits -------------------------------------------------------------
    rate_upload_per_min: int = 30
    rate_analyze_per_min: int = 120
    rate_chat_per_min: int = 60
    rate_decide_per_min: int = 600  # decisions (HTTP and websocket), per client
    rate_llm_test_per_min: int = 6  # POST /api/llm/test, per client
    llm_test_probe_ttl_s: float = 600.0  # a model test's probe review (and its job) is gone after this
    name_max_chars: int = 80  # chat author, decision `by`, hello name: cut to this many characters
    name_hard_max_chars: int = 1000  # longer than this: refused (400 / error reply)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def reviewer(self) -> str:
        return "claude" if self.anthropic_api_key else "offline"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
