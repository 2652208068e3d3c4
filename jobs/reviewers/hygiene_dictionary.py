"""The spelling rule's dictionary: which words are known, how common a word is, and what is not a typo.

pyspellchecker's offline English dictionary (loaded once per process, on first use) plus a
technical vocabulary (`TECH_WORDS`); British spellings whose American form is known, a prefix
on a known word ("unban", "reupload") and an inflection of one ("namespaced", `inflected_known`)
are not typos either. `RUN_TOGETHER` holds common English words written as one ("usecase",
"alot"). `consistency_names.py` asks it too: two real words are not one name spelled two ways.
`reads_as_english` tells whether these rules apply at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


TECH_WORDS = frozenset("""
comms devs envs creds perf backfilled wasm emerg crit algo algos
api apis tech auth authn authz backend backends backoff bool boolean cdn cdns changelog checkbox checkboxes cli config
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
admin admins sysadmin sysadmins async await accessor accessors truthy falsy namespaced subresource subresources
dropdown lockfile lockfiles codebase codebases backport backports backported healthcheck healthchecks cronjob
cronjobs kubeconfig minikube statefulset statefulsets daemonset daemonsets configmap configmaps nameserver
nameservers cname cnames ttl ttls ratelimit ratelimited ratelimiting unpublish hotfixes misconfigure exfiltrate
exfiltrated exfiltrating exfiltration malware spyware ransomware phishing webauthn yubikey yubikeys mfa 2fa
gcloud gsutil wget buildx venv virtualenv virtualenvs pypi npm pnpm systemd systemctl journalctl dockerhub gitter
stackdriver fastly cloudflare pagerduty opsgenie datadog statuspage grafana kibana elasticsearch postgresql mysql
sqlite mongodb memcached rabbitmq kafka etcd haproxy cdn varnish nodepools preemptible autoscaled upscale
downscale dashboarding alerting alertmanager oom oomkilled crashloop crashloopbackoff hostnames
""".split())

# Words run together that a dictionary may even know, with their one fix: common English
# misspellings (lists of commonly misspelled words), not jargon.
RUN_TOGETHER = {
    "usecase": "use case", "usecases": "use cases", "alot": "a lot", "infact": "in fact", "aswell": "as well",
    "atleast": "at least", "eachother": "each other", "noone": "no one", "everytime": "every time",
    "inspite": "in spite", "ontop": "on top", "thankyou": "thank you", "alittle": "a little",
    "abit": "a bit",
}


@lru_cache(maxsize=1)
def _spell():
    try:
        from spellchecker import SpellChecker
    except ImportError:  # pragma: no cover - the dependency is declared; degrade to no spelling rule
        return None
    sp = SpellChecker(language="en", distance=1)
    return sp


# English's commonest short words that other languages written in Latin letters do not share ("a",
# "as", "no" and "do" are Portuguese or Spanish words too): a quarter of an English write-up's words,
# none of a Portuguese one's (measured on the corpus and 35 other write-ups: 0.12 at the least, 0.00)
_ENGLISH_WORDS = frozenset("the of and to in is was that for it on with be by at this we were are not have has "
                           "from our".split())
# and theirs, in the languages a write-up is most often in after English (Portuguese, Spanish,
# French, German, Italian, Dutch): a write-up in one of them is made of these as much as English is of its own
_OTHER_WORDS = frozenset("""de que não nao para com uma um por os em da do das dos foi ao se mais
    el los las en y del con una es por para lo al se fue
    le les des est une et pour dans du au sur pas qui ce été
    der die und das ist nicht mit ein eine den dem zu auf für wir wurde
    il di che non della per sono è
    het een van en niet met voor zijn werd""".split())
_LETTERS = re.compile(r"[^\W\d_]+")
MIN_ENGLISH_SHARE = 0.05
MIN_OTHER_SHARE = 0.10
_LANGUAGE_SAMPLE = 5000  # words read: enough to tell, and a bound on the work


def reads_as_english(texts: Iterable[str]) -> bool:
    """Is the write-up in English? Its spelling, grammar and wording rules read English only; a
    write-up in Portuguese had its words "corrected" to English ones ('processo' -> 'process').
    Not English when most of its letters are of another script (MATE's server-outage post in
    Japanese), or when English's commonest words are nearly absent and another language's are there
    instead (a write-up of names, numbers and identifiers is still read as English)."""
    words = english = other = latin = letters = 0
    for text in texts:
        for m in _LETTERS.finditer(text):
            word = m.group().lower()
            words += 1
            english += word in _ENGLISH_WORDS
            other += word in _OTHER_WORDS
            letters += len(word)
            latin += sum(1 for ch in word if ch < "\u0250")  # Latin letters, accented ones too
            if words >= _LANGUAGE_SAMPLE:
                break
        if words >= _LANGUAGE_SAMPLE:
            break
    if letters >= 200 and latin < letters / 2:
        return False  # most letters in another script: Japanese, Chinese, Russian, Greek, Arabic...
    return words < 60 or english >= MIN_ENGLISH_SHARE * words or other < MIN_OTHER_SHARE * words


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
    known = sp.word_frequency.dictionary  # bound once: a property lookup per candidate was most of the time
    return [c for c in sp.edit_distance_1(w) if c in known]


BRITISH = (("our", "or"), ("ise", "ize"), ("ised", "ized"), ("ising", "izing"), ("isation", "ization"),
           ("yse", "yze"), ("ysed", "yzed"), ("tre", "ter"), ("ogue", "og"), ("ence", "ense"), ("lled", "led"),
           ("lling", "ling"), ("ours", "ors"), ("ises", "izes"), ("isations", "izations"), ("mme", "m"),
           ("ysing", "yzing"), ("yser", "yzer"), ("ysers", "yzers"), ("isable", "izable"))


PREFIXES = ("un", "re", "de", "pre", "non", "sub", "auto", "multi", "over", "under", "mis", "co")


SUFFIXES = ("s", "es", "d", "ed", "ing", "er", "ers", "ly")


def inflected_known(w: str) -> bool:
    """An inflection of a known word the dictionary lacks: "namespaced", "cordoning",
    "backporting", "caching" (cache + ing). The stem must keep at least four letters."""
    for suf in SUFFIXES:
        if w.endswith(suf) and len(w) - len(suf) >= 4:
            stem = w[:-len(suf)]
            if suf in ("ing", "ed", "er", "ers") and stem[-1:] not in "aeiouwxy" and \
                    is_known_word(stem + stem[-1] + suf):
                return False  # the consonant should be doubled: "occured" is "occurred"
            if is_known_word(stem) or suf in ("ing", "ed", "er", "ers") and is_known_word(stem + "e"):
                return True
            if suf in ("ing", "ed", "er", "ers") and len(stem) >= 5 and stem[-1] == stem[-2] and \
                    is_known_word(stem[:-1]):
                return True  # a doubled final consonant: "unpinned" (unpin), "scrapped" (scrap)
    return False


def _british(w: str) -> bool:
    """A British spelling whose American form the dictionary knows."""
    for gb, us in BRITISH:
        if gb in w and is_known_word(w.replace(gb, us, 1)):
            return True
    return False
