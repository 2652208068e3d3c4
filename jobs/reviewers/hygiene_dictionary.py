"""The spelling rule's dictionary: which words are known, how common a word is, and what is not a typo.

pyspellchecker's offline English dictionary (loaded once per process, on first use) plus a
technical vocabulary (`TECH_WORDS`); British spellings whose American form is known, and a prefix
on a known word ("unban", "reupload"), are not typos either. `consistency_names.py` asks it too:
two real words are not one name spelled two ways.
"""

from __future__ import annotations

from functools import lru_cache


TECH_WORDS = frozenset("""
api apis auth authn authz backend backends backoff bool boolean cdn cdns changelog checkbox checkboxes cli config
configs cron crons csv daemon daemons dataset datasets dedupe deduplicate deploy deploys deployment dev devops dns
dockerfile downtime egress endpoint endpoints env failover failovers fallback filesystem firewall frontend github
gitlab grafana hostname hostnames hotfix html http https iframe ingress inode inodes ip ips json jwt k8s kubectl
kubernetes lifecycle linter localhost login logins logout loopback metadata microservice microservices middleware
misconfiguration misconfigured monorepo mutex namespace namespaces nginx nodepool oauth onboarding oncall param params
passwordless pentest plaintext postgres postmortem postmortems prometheus proxied proxying readme realtime rebase
rebased reboot rebooted reboots redeploy redeployed redis refactor refactored repo repos repro reupload rollback
rollbacks rollout rollouts runbook runbooks runtime sandbox sandboxed scalability serverless sharding sql ssh ssl
stacktrace stderr stdout subdomain subdomains subnet sudo syscall teardown timestamp timestamps timeout timeouts tls
tooling totp typosquatting typosquat uptime url urls usb username usernames uuid uuids vm vms vpn walkthrough webhook
webhooks whitelist wifi workflow workflows yaml yml tokenize unauthenticated unencrypted untrusted unpatched
autoscaler autoscaling autoscale cordon cordoned uncordon kubelet pods pod repo2docker binderhub jupyterhub mybinder
hasn't doesn't didn't wasn't weren't isn't aren't couldn't wouldn't shouldn't can't won't we've we're we'd we'll i'm
i've i'd it's that's there's what's let's they're they've you're you've
""".split())


@lru_cache(maxsize=1)
def _spell():
    try:
        from spellchecker import SpellChecker
    except ImportError:  # pragma: no cover - the dependency is declared; degrade to no spelling rule
        return None
    sp = SpellChecker(language="en", distance=1)
    return sp


def is_known_word(w: str) -> bool:
    sp = _spell()
    w = w.lower()
    if w in TECH_WORDS:
        return True
    return sp is not None and w in sp.word_frequency.dictionary


def _freq(w: str) -> float:
    sp = _spell()
    return sp.word_usage_frequency(w) if sp is not None else 0.0


def _edits1_known(w: str) -> list[str]:
    sp = _spell()
    if sp is None:
        return []
    return [c for c in sp.edit_distance_1(w) if c in sp.word_frequency.dictionary]


BRITISH = (("our", "or"), ("ise", "ize"), ("ised", "ized"), ("ising", "izing"), ("isation", "ization"),
           ("yse", "yze"), ("ysed", "yzed"), ("tre", "ter"), ("ogue", "og"), ("ence", "ense"), ("lled", "led"),
           ("lling", "ling"), ("ours", "ors"), ("ises", "izes"), ("isations", "izations"), ("mme", "m"))


PREFIXES = ("un", "re", "de", "pre", "non", "sub", "auto", "multi", "over", "under", "mis", "co")


def _british(w: str) -> bool:
    """A British spelling whose American form the dictionary knows."""
    for gb, us in BRITISH:
        if gb in w and is_known_word(w.replace(gb, us, 1)):
            return True
    return False
