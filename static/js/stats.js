// Review statistics: counts by risk, type, decision and section; completion; model usage
// and its cost. Pure functions over the state. The cost is the server's (`cost_usd`, from
// its model price table): the page keeps no prices of its own.

import { RISKS, TYPES, DECISIONS } from "./state.js";

export function computeStats(state) {
  const byRisk = Object.fromEntries(RISKS.map((k) => [k, 0]));
  const byType = Object.fromEntries(TYPES.map((k) => [k, 0]));
  const byDecision = Object.fromEntries(DECISIONS.map((k) => [k, 0]));
  const bySource = {};
  const bySection = new Map(state.sections.map((s) => [s.id, { id: s.id, title: s.title, total: 0, high: 0, medium: 0, low: 0 }]));
  for (const i of state.items) {
    if (i.risk in byRisk) byRisk[i.risk] += 1;
    if (i.type in byType) byType[i.type] += 1;
    if (i.decision in byDecision) byDecision[i.decision] += 1;
    bySource[i.source] = (bySource[i.source] || 0) + 1;
    const s = bySection.get(i.section_id);
    if (s) {
      s.total += 1;
      if (i.risk in s) s[i.risk] += 1;
    }
  }
  const total = state.items.length;
  const decided = byDecision.accepted + byDecision.rejected;
  const sectionsDone = state.sections.filter((s) => s.status === "done").length;
  return {
    total, byRisk, byType, byDecision, bySource,
    bySection: [...bySection.values()],
    decided,
    decidedFraction: total ? decided / total : 0,
    sectionsDone,
    sectionsTotal: state.sections.length,
    sectionsFraction: state.sections.length ? sectionsDone / state.sections.length : 0,
    usage: usageSummary(state.usage || {}),
  };
}

/** Token counts and the server's cost (null when it reported none: shown as "—"). */
export function usageSummary(usage) {
  const n = (k) => Number(usage[k]) || 0;
  const tokens = {
    input: n("input_tokens"), output: n("output_tokens"),
    cacheRead: n("cache_read_tokens"), cacheWrite: n("cache_write_tokens"),
    thinking: n("thinking_tokens"),
  };
  const any = Object.values(tokens).some((v) => v > 0);
  const raw = usage.cost_usd;
  const cost = raw !== undefined && raw !== null && raw !== "" && Number.isFinite(Number(raw)) ? Number(raw) : null;
  const requests = n("requests") || n("calls") || null;
  return { tokens, any, cost, requests, raw: usage };
}

export function formatTokens(n) {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e4) return `${Math.round(n / 1e3)} k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(Math.round(n));
}

export function formatCost(usd) {
  if (usd === null || usd === undefined) return "—";
  if (usd < 0.01) return usd === 0 ? "$0.00" : "< $0.01";
  return `$${usd.toFixed(usd < 10 ? 2 : 0)}`;
}

// ---- the audit trail as a filterable timeline (the stats dialog's History)

/** Kinds of change the History filters by, in the order shown ([key, label]). */
export const AUDIT_GROUPS = [
  ["decisions", "Decisions"], ["findings", "Findings"], ["analyses", "Analyses"],
  ["chat", "Chat"], ["exports", "Exports"], ["versions", "Versions"],
];

/** The group of an audit entry's kind (jobs/events.py names the kinds); the upload is the first version. */
export function auditGroup(kind) {
  const k = String(kind || "");
  if (k === "item.decided") return "decisions";
  if (k.startsWith("item.")) return "findings";
  if (k.startsWith("job.")) return "analyses";
  if (k.startsWith("chat.")) return "chat";
  if (k === "export") return "exports";
  if (k.startsWith("review.")) return "versions";
  return "other";
}

/** Who made an entry: its `by`, or "" (an analysis, a model's finding, an unnamed export). */
export function auditPerson(entry) {
  return typeof entry.by === "string" ? entry.by.trim() : "";
}

/** A History filter: no groups = every kind; person null = everyone ("" = entries without a name). */
export function defaultAuditFilter() {
  return { groups: new Set(), person: null };
}

function groupOk(e, f) { return !f.groups.size || f.groups.has(auditGroup(e.kind)); }
function personOk(e, f) { return f.person === null || auditPerson(e) === f.person; }

export function filterAudit(entries, f) {
  return entries.filter((e) => groupOk(e, f) && personOk(e, f));
}

/** Counts for the filter's choices, each under the other choice (as the findings' chips count):
 * {groups: {key: n}, people: [[name, n]] (most active first, "" last)}. */
export function auditFacets(entries, f) {
  const groups = Object.fromEntries(AUDIT_GROUPS.map(([k]) => [k, 0]));
  const people = new Map();
  for (const e of entries) {
    if (personOk(e, f)) { const g = auditGroup(e.kind); if (g in groups) groups[g] += 1; }
    if (groupOk(e, f)) { const p = auditPerson(e); people.set(p, (people.get(p) || 0) + 1); }
  }
  const named = [...people].filter(([p]) => p).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return { groups, people: people.has("") ? [...named, ["", people.get("")]] : named };
}
