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
