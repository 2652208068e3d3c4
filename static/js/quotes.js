// Finding an item's quote in its section's text, and cutting the text into runs
// (plain text, or covered by one or more items) for highlighting.

import { RISK_RANK } from "./state.js";

/** Whitespace-collapsed copy of `text` with a map back to the original offsets. */
function collapse(text, lower) {
  let out = "";
  const map = [];
  let inSpace = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (/\s/.test(ch)) {
      if (!inSpace && out.length) { out += " "; map.push(i); }
      inSpace = true;
    } else {
      out += lower ? ch.toLowerCase() : ch;
      map.push(i);
      inSpace = false;
    }
  }
  return { out, map };
}

/**
 * [start, end) of `quote` in `text`, or null. Exact match first, then with
 * whitespace collapsed, then also ignoring case and curly quotes.
 */
export function locate(text, quote) {
  if (!quote || !text) return null;
  const exact = text.indexOf(quote);
  if (exact >= 0) return [exact, exact + quote.length];
  const fold = (s) => s.replace(/[\u2018\u2019]/g, "'").replace(/[\u201C\u201D]/g, '"').replace(/[\u2013\u2014]/g, "-");
  for (const lower of [false, true]) {
    const t = collapse(fold(text), lower);
    const q = collapse(fold(quote.trim()), lower).out.trim();
    if (!q) return null;
    const at = t.out.indexOf(q);
    if (at >= 0) {
      const start = t.map[at];
      const end = t.map[at + q.length - 1] + 1;
      return [start, end];
    }
  }
  return null;
}

/**
 * Runs of `text`: [{start, end, items: [item...]}] covering the text in order.
 * `items` of a run are the items whose quote covers it, the riskiest first.
 */
export function segments(text, items) {
  const ranges = [];
  for (const item of items) {
    const r = locate(text, item.quote);
    if (r && r[1] > r[0]) ranges.push({ start: r[0], end: r[1], item });
  }
  const cuts = new Set([0, text.length]);
  for (const r of ranges) { cuts.add(r.start); cuts.add(r.end); }
  const points = [...cuts].sort((a, b) => a - b);
  const runs = [];
  for (let i = 0; i < points.length - 1; i++) {
    const start = points[i];
    const end = points[i + 1];
    if (end <= start) continue;
    const covering = ranges.filter((r) => r.start <= start && r.end >= end).map((r) => r.item)
      .sort((a, b) => (RISK_RANK[a.risk] ?? 3) - (RISK_RANK[b.risk] ?? 3));
    runs.push({ start, end, items: covering });
  }
  return { runs, found: new Set(ranges.map((r) => r.item.id)) };
}

/** Offset of the boundary (node, offset) within `root`'s text; null if outside `root`. */
export function textOffset(root, node, offset) {
  if (node !== root && !root.contains(node)) return null;
  const r = document.createRange();
  r.setStart(root, 0);
  r.setEnd(node, offset);
  return r.toString().length; // Range.toString joins the Text nodes' data: exact source characters
}
