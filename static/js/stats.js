// Review statistics: counts by risk, type, decision and section; completion; model usage
// and its estimated cost. Pure functions over the state.

import { RISKS, TYPES, DECISIONS } from "./state.js";

// USD per million tokens, used only when the server does not report cost_usd.
// Defaults to Sonnet-class prices; a known model family picks its own.
const PRICES = [
  { match: /opus/i, input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 },
  { match: /haiku/i, input: 0.8, output: 4, cacheRead: 0.08, cacheWrite: 1 },
  { match: /./, input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
];

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
    usage: usageSummary(state.usage || {}, state.reviewer),
  };
}

export function usageSummary(usage, reviewer) {
  const n = (k) => Number(usage[k]) || 0;
  const tokens = {
    input: n("input_tokens"), output: n("output_tokens"),
    cacheRead: n("cache_read_tokens"), cacheWrite: n("cache_write_tokens"),
  };
  const any = Object.values(tokens).some((v) => v > 0);
  let cost = null;
  let estimated = false;
  if (usage.cost_usd !== undefined && usage.cost_usd !== null && !Number.isNaN(Number(usage.cost_usd))) {
    cost = Number(usage.cost_usd);
  } else if (any) {
    const model = (reviewer && reviewer.model) || "";
    const p = PRICES.find((x) => x.match.test(model));
    cost = (tokens.input * p.input + tokens.output * p.output + tokens.cacheRead * p.cacheRead
      + tokens.cacheWrite * p.cacheWrite) / 1e6;
    estimated = true;
  }
  const requests = n("requests") || n("calls") || null;
  return { tokens, any, cost, estimated, requests, raw: usage };
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
