// Exports built in the page: items as JSON and CSV, the chat as Markdown (Blob downloads);
// and the server's reviewed .docx with the page's export choices.

import { ApiError, saveBlob } from "./api.js";

const ITEM_COLUMNS = ["id", "section_id", "section_title", "type", "risk", "category", "confidence", "decision",
  "source", "author", "decided_by", "decided_at", "reason", "description", "suggestion", "quote", "replacement",
  "questions", "refs"];

function slug(s) {
  return (String(s || "review").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 60)) || "review";
}

export function itemsJSON(state, items = state.items) {
  const titles = new Map(state.sections.map((s) => [s.id, s.title]));
  return JSON.stringify({
    review_id: state.reviewId,
    title: state.title,
    exported_at: new Date().toISOString(),
    items: items.map((i) => ({ ...i, section_title: titles.get(i.section_id) || null })),
  }, null, 2);
}

/** One CSV cell: quoted, and a leading = + - @ neutralised (spreadsheet formula injection). */
export function csvCell(value) {
  let s = value === null || value === undefined ? "" : Array.isArray(value) ? value.join(" | ") : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

export function itemsCSV(state, items = state.items) {
  const titles = new Map(state.sections.map((s) => [s.id, s.title]));
  const rows = [ITEM_COLUMNS.map(csvCell).join(",")];
  for (const i of items) {
    const row = { ...i, section_title: titles.get(i.section_id) || "" };
    rows.push(ITEM_COLUMNS.map((c) => csvCell(row[c])).join(","));
  }
  return "\uFEFF" + rows.join("\r\n") + "\r\n"; // BOM: spreadsheets read UTF-8
}

export function chatMarkdown(state) {
  const titles = new Map(state.sections.map((s) => [s.id, s.title]));
  const out = [`# Chat — ${state.title}`, ""];
  for (const m of state.chat) {
    if (m.role === "user") {
      const about = m.section_id && titles.get(m.section_id) ? ` (about “${titles.get(m.section_id)}”)` : "";
      out.push(`**${m.author || "Reviewer"}**${about}:`, "", m.text, "");
    } else {
      out.push("**Reviewer assistant**:", "", m.text || "_(no answer)_", "");
    }
  }
  return out.join("\n");
}

export function downloadItemsJSON(state, items) {
  saveBlob(new Blob([itemsJSON(state, items)], { type: "application/json" }), `${slug(state.title)}-items.json`);
}

export function downloadItemsCSV(state, items) {
  saveBlob(new Blob([itemsCSV(state, items)], { type: "text/csv;charset=utf-8" }), `${slug(state.title)}-items.csv`);
}

export function downloadChatMarkdown(state) {
  saveBlob(new Blob([chatMarkdown(state)], { type: "text/markdown;charset=utf-8" }), `${slug(state.title)}-chat.md`);
}

/**
 * The reviewed .docx from the server, through fetch (the token in a header, never in a URL):
 * `include` and `changes` as the export route takes them, `audit` appends the review record
 * (?audit=1), `by` names who exports in the audit trail. Resolves {blob, filename}.
 */
export async function fetchReviewedDocx(api, { include = "accepted", changes = "both", audit = false, by = null } = {}) {
  const q = new URLSearchParams({ include, changes });
  if (audit) q.set("audit", "1");
  if (by) q.set("by", by);
  let resp;
  try {
    resp = await fetch(`${api.base()}/export.docx?${q}`, { headers: api.headers(), cache: "no-store" });
  } catch {
    throw new ApiError("The server could not be reached. Check the connection and try again.");
  }
  if (!resp.ok) {
    let error = {};
    try { error = (await resp.json()).error || {}; } catch { /* not JSON */ }
    throw new ApiError(error.message || `The server answered ${resp.status}.`, { status: resp.status, code: error.code || `http_${resp.status}` });
  }
  const m = /filename="?([^";]+)"?/i.exec(resp.headers.get("Content-Disposition") || "");
  return { blob: await resp.blob(), filename: m ? m[1] : "review-reviewed.docx" };
}
