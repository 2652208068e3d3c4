// Which findings are shown, in which order: pure functions over the state and the filter.

import { RISK_RANK, TYPE_RANK, RISKS, TYPES, DECISIONS, RESOLUTIONS } from "./state.js";

export function defaultFilter() {
  return { risk: new Set(), type: new Set(), decision: new Set(), resolution: new Set(), section: "all", sort: "document" };
}

/** The filter as plain JSON (for sessionStorage) and back. */
export function filterToJSON(f) {
  return { risk: [...f.risk], type: [...f.type], decision: [...f.decision], resolution: [...f.resolution],
    section: f.section, sort: f.sort };
}

export function filterFromJSON(o) {
  const f = defaultFilter();
  if (!o || typeof o !== "object") return f;
  const pick = (arr, allowed) => new Set((Array.isArray(arr) ? arr : []).filter((x) => allowed.includes(x)));
  f.risk = pick(o.risk, RISKS);
  f.type = pick(o.type, TYPES);
  f.decision = pick(o.decision, DECISIONS);
  f.resolution = pick(o.resolution, RESOLUTIONS);
  if (typeof o.section === "string") f.section = o.section;
  if (["document", "risk", "confidence"].includes(o.sort)) f.sort = o.sort;
  return f;
}

export function isFiltered(f) {
  return f.risk.size > 0 || f.type.size > 0 || f.decision.size > 0 || f.resolution.size > 0 || f.section !== "all";
}

/**
 * Items that pass `f`. `decisionOf(item)` gives the decision to filter on (the page shows
 * a decision as soon as it is clicked; the server's event confirms it).
 * `currentSectionId` is used when f.section === "current". `resolutionOf(item)` gives the
 * finding's round (open / resolved / outdated / new; null before a second version).
 */
export function filterItems(items, f, { decisionOf = (i) => i.decision, currentSectionId = null,
  resolutionOf = (i) => i.resolution || null } = {}) {
  return items.filter((i) => {
    if (f.risk.size && !f.risk.has(i.risk)) return false;
    if (f.type.size && !f.type.has(i.type)) return false;
    if (f.decision.size && !f.decision.has(decisionOf(i))) return false;
    if (f.resolution.size && !f.resolution.has(resolutionOf(i))) return false;
    if (f.section === "current") return i.section_id === currentSectionId;
    if (f.section !== "all" && i.section_id !== f.section) return false;
    return true;
  });
}

export function sortItems(items, sort, sectionOrder) {
  const order = (i) => sectionOrder.get(i.section_id) ?? 1e9;
  const docCmp = (a, b) => order(a) - order(b) || (a.created_at || 0) - (b.created_at || 0)
    || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const list = items.slice();
  if (sort === "risk") {
    list.sort((a, b) => (RISK_RANK[a.risk] ?? 3) - (RISK_RANK[b.risk] ?? 3)
      || (TYPE_RANK[a.type] ?? 3) - (TYPE_RANK[b.type] ?? 3) || (b.confidence ?? 0) - (a.confidence ?? 0) || docCmp(a, b));
  } else if (sort === "confidence") {
    list.sort((a, b) => (b.confidence ?? 0) - (a.confidence ?? 0) || (RISK_RANK[a.risk] ?? 3) - (RISK_RANK[b.risk] ?? 3)
      || docCmp(a, b));
  } else {
    list.sort(docCmp);
  }
  return list;
}

/** Counts for the filter chips: how many items each choice would add (others' filters applied). */
export function facetCounts(items, f, opts) {
  const counts = { risk: {}, type: {}, decision: {}, resolution: {} };
  for (const facet of ["risk", "type", "decision", "resolution"]) {
    const without = { ...f, [facet]: new Set() };
    for (const i of filterItems(items, without, opts)) {
      const key = facet === "decision" && opts && opts.decisionOf ? opts.decisionOf(i)
        : facet === "resolution" ? (opts && opts.resolutionOf ? opts.resolutionOf(i) : i.resolution) : i[facet];
      counts[facet][key] = (counts[facet][key] || 0) + 1;
    }
  }
  return counts;
}
