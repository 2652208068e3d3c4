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
 * [start, end) of a chat citation `{start, end, text}` in `text` (its section's text), or
 * null. The offsets are trusted only when they hold exactly `c.text`; otherwise the first
 * occurrence of `c.text` is used; a citation whose text is not in the section maps nowhere.
 */
export function citationRange(text, c) {
  if (!c || typeof c.text !== "string" || !c.text || typeof text !== "string") return null;
  const { start, end } = c;
  if (Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end > start && end <= text.length
      && text.slice(start, end) === c.text) {
    return [start, end];
  }
  const at = text.indexOf(c.text);
  return at >= 0 ? [at, at + c.text.length] : null;
}

/**
 * A chat answer's citations that point into a section of `sections`:
 * [{citation, section, start, end, text}], in the answer's order, duplicates dropped.
 */
export function mapCitations(citations, sections) {
  if (!Array.isArray(citations) || !citations.length) return [];
  const byId = new Map(sections.map((s) => [s.id, s]));
  const out = [];
  const seen = new Set();
  for (const c of citations) {
    const section = c && byId.get(c.section_id);
    if (!section) continue;
    const r = citationRange(section.text, c);
    if (!r) continue;
    const key = `${section.id}:${r[0]}:${r[1]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ citation: c, section, start: r[0], end: r[1], text: section.text.slice(r[0], r[1]) });
  }
  return out;
}

/**
 * Runs of `text`: [{start, end, items: [item...], ref}] covering the text in order.
 * `items` of a run are the items whose quote covers it, the riskiest first; `ref` is
 * true inside `refRange` ([start, end), the passage shown from a chat quote or a
 * "Compare with" link), if given.
 */
export function segments(text, items, refRange = null) {
  const ranges = [];
  for (const item of items) {
    const r = locate(text, item.quote);
    if (r && r[1] > r[0]) ranges.push({ start: r[0], end: r[1], item });
  }
  const ref = refRange && refRange[1] > refRange[0] && refRange[0] >= 0 && refRange[1] <= text.length ? refRange : null;
  const cuts = new Set([0, text.length]);
  for (const r of ranges) { cuts.add(r.start); cuts.add(r.end); }
  if (ref) { cuts.add(ref[0]); cuts.add(ref[1]); }
  const points = [...cuts].sort((a, b) => a - b);
  const runs = [];
  for (let i = 0; i < points.length - 1; i++) {
    const start = points[i];
    const end = points[i + 1];
    if (end <= start) continue;
    const covering = ranges.filter((r) => r.start <= start && r.end >= end).map((r) => r.item)
      .sort((a, b) => (RISK_RANK[a.risk] ?? 3) - (RISK_RANK[b.risk] ?? 3));
    runs.push({ start, end, items: covering, ref: !!ref && ref[0] <= start && ref[1] >= end });
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
