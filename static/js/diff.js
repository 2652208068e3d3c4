// A word-level diff of a finding's quote and its proposed rewrite, rendered as DOM (text only).

import { h } from "./dom.js";

const MAX_CELLS = 1_000_000; // past this (two very long texts), the whole quote is shown replaced

function tokens(s) {
  return String(s || "").match(/\s+|[^\s]+/g) || [];
}

/**
 * [{op: "same" | "del" | "ins", text}] turning `before` into `after`, word by word (whitespace
 * runs are tokens too, so joining the "same" and "del" parts gives `before` back, and the
 * "same" and "ins" parts give `after`). Longest common subsequence; neighbours of one kind merged.
 */
export function wordDiff(before, after) {
  const a = tokens(before);
  const b = tokens(after);
  const out = [];
  const push = (op, text) => {
    if (!text) return;
    const last = out[out.length - 1];
    if (last && last.op === op) last.text += text;
    else out.push({ op, text });
  };
  // common prefix and suffix first: a small edit of a long quote stays cheap
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start += 1;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) { endA -= 1; endB -= 1; }
  push("same", a.slice(0, start).join(""));
  const x = a.slice(start, endA);
  const y = b.slice(start, endB);
  if ((x.length + 1) * (y.length + 1) > MAX_CELLS) {
    push("del", x.join(""));
    push("ins", y.join(""));
  } else {
    // lcs[i][j]: length of the LCS of x[i:] and y[j:]
    const w = y.length + 1;
    const lcs = new Uint32Array((x.length + 1) * w);
    for (let i = x.length - 1; i >= 0; i -= 1) {
      for (let j = y.length - 1; j >= 0; j -= 1) {
        lcs[i * w + j] = x[i] === y[j] ? lcs[(i + 1) * w + j + 1] + 1 : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < x.length && j < y.length) {
      if (x[i] === y[j]) { push("same", x[i]); i += 1; j += 1; }
      else if (lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) { push("del", x[i]); i += 1; }
      else { push("ins", y[j]); j += 1; }
    }
    while (i < x.length) { push("del", x[i]); i += 1; }
    while (j < y.length) { push("ins", y[j]); j += 1; }
  }
  push("same", a.slice(endA).join(""));
  return fold(out);
}

/** One change region per run of edits: a blank between two edits joins them, and the region
 * reads as all its deleted words, then all its inserted words ("within two" -> "after fourteen"
 * rather than "within" -> "after", " ", "two" -> "fourteen"). */
function fold(parts) {
  const out = [];
  let i = 0;
  while (i < parts.length) {
    if (parts[i].op === "same") { out.push(parts[i]); i += 1; continue; }
    let del = "";
    let ins = "";
    let j = i;
    for (; j < parts.length; j += 1) {
      const p = parts[j];
      if (p.op === "del") del += p.text;
      else if (p.op === "ins") ins += p.text;
      else if (/^\s+$/.test(p.text) && j + 1 < parts.length && parts[j + 1].op !== "same") { del += p.text; ins += p.text; }
      else break;
    }
    if (del) out.push({ op: "del", text: del });
    if (ins) out.push({ op: "ins", text: ins });
    i = j;
  }
  return out;
}

/** The diff as inline text: deleted words struck through (<del>), inserted words marked (<ins>). */
export function renderDiff(before, after) {
  const parts = wordDiff(before, after).map((p) => (p.op === "same" ? p.text
    : h(p.op === "del" ? "del" : "ins", { class: `diff-${p.op}` }, p.text)));
  return h("span", { class: "diff" }, parts);
}
