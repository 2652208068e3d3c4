// One finding as a card: type, risk, category, confidence, description, suggestion,
// key questions, checklist refs, source; accept / reject / revert; edit and delete of
// the reviewer's own findings; a proposed rewrite of the quote shown as an inline diff, edited
// (or added) before accepting; an optional reason asked for on Reject.

import { renderDiff } from "../diff.js";
import { h, icon, iconButton, setChildren } from "../dom.js";
import { renderMarkdown } from "../markdown.js";

const TYPE_LABEL = { critical: "Critical", important: "Important", suggestion: "Suggestion" };
const RISK_LABEL = { high: "High", medium: "Medium", low: "Low" };
const SOURCE_LABEL = { claude: "Claude", offline: "Offline rules", user: "Reviewer" };
const DECISION_LABEL = { accepted: "Accepted", rejected: "Rejected", pending: "Pending" };
// What the latest version did to the finding (view.resolution; "new": raised since it arrived).
const RESOLUTION_LABEL = { open: "Open", resolved: "Resolved", outdated: "Outdated", new: "New" };
const RESOLUTION_TITLE = { open: "Its quote is still in the latest version", resolved: "Resolved by a new version: its quote is gone or was rewritten",
  outdated: "Outdated: its section was removed in a new version", new: "Raised since the latest version arrived" };

const REWRITE_MAX = 4000;
const REASON_MAX = 1000;

// What this tab is doing on a card, kept across re-renders: item id -> {editing, draft, asking, reason}.
const local = new Map();
const lastRender = new WeakMap(); // card element -> [item, view, actions]

function localOf(id) {
  let l = local.get(id);
  if (!l) { l = { editing: false, draft: null, asking: false, reason: "" }; local.set(id, l); }
  return l;
}

/** Re-render one card after a change of its local state, then focus `focusAction` in it. */
function rerender(el, focusAction) {
  const args = lastRender.get(el);
  if (!args) return;
  renderCard(el, ...args);
  const target = focusAction && el.querySelector(`[data-action="${focusAction}"]`);
  if (target) {
    target.focus({ preventScroll: true });
    if (typeof target.setSelectionRange === "function") target.setSelectionRange(target.value.length, target.value.length);
  }
}

function excerpt(s, n = 140) {
  const t = String(s || "").replace(/\s+/g, " ").trim();
  return t.length > n ? `${t.slice(0, n - 1)}…` : t;
}

/** Open the card's reject prompt, as its Reject button does (the `r` shortcut). False when the
 * card cannot ask: never rendered, or already rejected. */
export function askRejectReason(el) {
  const args = lastRender.get(el);
  if (!args || args[1].decision === "rejected") return false;
  localOf(args[0].id).asking = true;
  rerender(el, "reason-text");
  return true;
}

/**
 * Fill `el` (the card's <article>) for `item`. `view` = {decision, sectionTitle, selected,
 * pending (a click not yet confirmed by the server), hasQuote, relatedTitle (the title of
 * the section named by item.related_section_id; empty when that is no section of the review)}.
 */
export function renderCard(el, item, view, actions) {
  const decision = view.decision;
  const resolution = view.resolution || item.resolution || null;
  el.className = `card risk-${item.risk} dec-${decision}${view.selected ? " is-selected" : ""}${view.pending ? " is-pending" : ""} src-${item.source}`
    + (resolution ? ` res-${resolution}` : "");
  if (resolution) el.dataset.resolution = resolution;
  else delete el.dataset.resolution;
  el.dataset.itemId = item.id;
  el.dataset.decision = decision;
  el.dataset.risk = item.risk;
  el.dataset.type = item.type;
  el.dataset.source = item.source;
  el.setAttribute("aria-label", `${RISK_LABEL[item.risk] || item.risk} risk, ${TYPE_LABEL[item.type] || item.type}: ${excerpt(item.description, 90)} — ${DECISION_LABEL[decision]}${resolution ? `, ${RESOLUTION_LABEL[resolution] || resolution}` : ""}`);
  el.setAttribute("aria-current", view.selected ? "true" : "false");

  const head = h("div", { class: "card-head" },
    h("span", { class: `type-badge type-${item.type}` }, TYPE_LABEL[item.type] || item.type),
    h("span", { class: `risk-pill risk-${item.risk}` }, h("span", { class: "risk-dot", "aria-hidden": "true" }), `${RISK_LABEL[item.risk] || item.risk} risk`),
    h("span", { class: "category", title: item.category }, item.category),
    resolution ? h("span", { class: `res-badge res-${resolution}`, title: RESOLUTION_TITLE[resolution]
      + (item.settled_in ? ` (version ${item.settled_in})` : "") }, RESOLUTION_LABEL[resolution] || resolution) : null,
    h("span", { class: "spacer" }),
    typeof item.confidence === "number" && item.source !== "user"
      ? h("span", { class: "confidence", title: "How confident the reviewer is" },
        h("span", { class: "confidence-bar", "aria-hidden": "true" }, h("span", { class: "confidence-fill", dataset: { c: String(item.confidence) } })),
        `${Math.round(item.confidence * 100)}%`)
      : null);
  const fillEl = head.querySelector(".confidence-fill");
  if (fillEl) fillEl.style.width = `${Math.round(item.confidence * 100)}%`;

  const desc = h("div", { class: "card-desc md" }, renderMarkdown(item.description));
  const sugg = item.suggestion
    ? h("div", { class: "card-suggestion" }, h("div", { class: "card-label" }, "Suggestion"), h("div", { class: "md" }, renderMarkdown(item.suggestion)))
    : null;
  const questions = item.questions && item.questions.length
    ? h("div", { class: "card-questions" }, h("div", { class: "card-label" }, "Key questions"),
      h("ul", null, item.questions.map((q) => h("li", null, q))))
    : null;
  const quote = item.quote
    ? h("button", { type: "button", class: `card-quote${view.hasQuote ? "" : " not-found"}`,
      title: view.hasQuote ? "Show in the document" : "This quote was not found in the section text",
      onclick: (e) => { e.stopPropagation(); actions.selectItem(item.id, { scrollDoc: true, scrollCard: false, reveal: "document" }); } },
    icon("target"), h("q", null, excerpt(item.quote, 160)))
    : null;

  // A finding that compares this section with another one (a summary against the timeline).
  const related = item.related_section_id && view.relatedTitle
    ? h("div", { class: "card-related" },
      h("button", { type: "button", class: "card-compare", dataset: { action: "compare" },
        title: item.related_quote ? `Show the passage in “${view.relatedTitle}”` : `Show “${view.relatedTitle}”`,
        onclick: (e) => { e.stopPropagation(); actions.compareWith(item); } },
      icon("link"), h("span", { class: "card-compare-text" }, `Compare with: ${view.relatedTitle}`)),
      item.related_quote ? h("q", { class: "card-related-quote" }, excerpt(item.related_quote, 160)) : null)
    : null;

  const refs = item.refs && item.refs.length
    ? h("span", { class: "refs", "aria-label": `Checklist: ${item.refs.join(", ")}` },
      item.refs.map((r) => h("span", { class: "ref", title: `Checklist item ${r}` }, r)))
    : null;
  const qCount = item.questions && item.questions.length
    ? h("span", { class: "q-count", title: "Select the finding to see its key questions" },
      `${item.questions.length} question${item.questions.length === 1 ? "" : "s"}`)
    : null;
  const who = item.source === "user" ? (item.author ? item.author : "Reviewer") : SOURCE_LABEL[item.source] || item.source;
  const source = h("span", { class: `source source-${item.source}` },
    item.source === "user" ? icon("user") : null, who, view.sectionTitle ? h("span", { class: "source-section" }, ` · ${view.sectionTitle}`) : null);

  lastRender.set(el, [item, view, actions]);
  const mine = localOf(item.id);
  const hasRewrite = typeof item.replacement === "string";
  const acceptNow = () => {
    const extra = {};
    if (mine.editing && mine.draft !== null && mine.draft !== item.replacement) extra.replacement = mine.draft;
    mine.editing = false;
    mine.draft = null;
    mine.asking = false;
    actions.decide(item.id, "accepted", extra);
    rerender(el, "accept");
  };
  const rejectNow = (reason) => {
    mine.asking = false;
    mine.reason = "";
    const extra = reason && reason.trim() ? { reason: reason.trim() } : {};
    actions.decide(item.id, "rejected", extra);
    rerender(el, "reject");
  };
  const btn = (kind, label, iconName, pressed, disabled) => h("button", {
    type: "button", class: `btn btn-xs decide decide-${kind}`, dataset: { action: kind },
    "aria-pressed": pressed === null ? null : String(pressed), disabled,
    "aria-label": `${label} this finding`,
    onclick: (e) => {
      e.stopPropagation();
      if (kind === "accept") acceptNow();
      else if (kind === "reject") {
        if (decision === "rejected") return;
        mine.asking = !mine.asking;
        rerender(el, mine.asking ? "reason-text" : "reject");
      } else actions.decide(item.id, "pending");
    },
  }, icon(iconName), label);

  // The proposed rewrite: an inline diff of the quote, or the editor that changes (or adds) it.
  let rewrite = null;
  if (item.quote && mine.editing) {
    const preview = h("div", { class: "rewrite-preview" });
    const paint = () => setChildren(preview, renderDiff(item.quote, mine.draft ?? ""));
    paint();
    const area = h("textarea", { class: "rewrite-text", rows: 3, maxLength: REWRITE_MAX, dataset: { action: "rewrite-text" },
      "aria-label": "Rewrite of the quoted text", value: mine.draft ?? "",
      oninput: (e) => { mine.draft = e.target.value; paint(); },
      onkeydown: (e) => {
        if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); mine.editing = false; mine.draft = null; rerender(el, "edit-rewrite"); }
        else if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); acceptNow(); }
      },
      onclick: (e) => e.stopPropagation() });
    rewrite = h("div", { class: "card-rewrite is-editing", onclick: (e) => e.stopPropagation() },
      h("div", { class: "card-label" }, hasRewrite ? "Edit the rewrite" : "Add a rewrite"), area, preview,
      h("div", { class: "rewrite-tools" },
        h("button", { type: "button", class: "btn btn-xs btn-primary", dataset: { action: "accept-rewrite" },
          onclick: (e) => { e.stopPropagation(); acceptNow(); } }, icon("check"), "Accept with this rewrite"),
        h("button", { type: "button", class: "btn btn-xs btn-ghost", dataset: { action: "cancel-rewrite" },
          onclick: (e) => { e.stopPropagation(); mine.editing = false; mine.draft = null; rerender(el, "edit-rewrite"); } },
        "Cancel")));
  } else if (item.quote && hasRewrite) {
    rewrite = h("div", { class: "card-rewrite" },
      h("div", { class: "card-label" }, "Rewrite"), h("div", { class: "rewrite-diff" }, renderDiff(item.quote, item.replacement)));
  }
  const editRewrite = item.quote && !mine.editing
    ? h("button", { type: "button", class: "btn btn-xs btn-ghost edit-rewrite", dataset: { action: "edit-rewrite" },
      title: hasRewrite ? "Change the proposed rewrite before accepting" : "Propose a rewrite of the quoted text",
      onclick: (e) => {
        e.stopPropagation();
        mine.editing = true;
        mine.draft = hasRewrite ? item.replacement : item.quote;
        rerender(el, "rewrite-text");
      } }, icon("pencil"), hasRewrite ? "Edit rewrite" : "Add rewrite")
    : null;

  // Reject asks why, in a small prompt that can be skipped.
  const prompt = mine.asking && decision !== "rejected"
    ? h("div", { class: "reject-prompt", role: "group", "aria-label": "Reason for rejecting", onclick: (e) => e.stopPropagation() },
      h("input", { type: "text", class: "reason-text", maxLength: REASON_MAX, dataset: { action: "reason-text" },
        placeholder: "Why reject? (optional — Enter)", "aria-label": "Reason for rejecting (optional)", value: mine.reason,
        oninput: (e) => { mine.reason = e.target.value; },
        onkeydown: (e) => {
          if (e.key === "Enter") { e.preventDefault(); rejectNow(e.target.value); }
          else if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); mine.asking = false; rerender(el, "reject"); }
        } }),
      h("button", { type: "button", class: "btn btn-xs", dataset: { action: "confirm-reject" },
        onclick: (e) => { e.stopPropagation(); rejectNow(mine.reason); } }, "Reject"),
      h("button", { type: "button", class: "btn btn-xs btn-ghost", dataset: { action: "skip-reason" },
        onclick: (e) => { e.stopPropagation(); rejectNow(""); } }, "Skip"))
    : null;
  const decide = h("div", { class: "decide-group", role: "group", "aria-label": "Decision" },
    btn("accept", "Accept", "check", decision === "accepted", false),
    btn("reject", "Reject", "x", decision === "rejected", false),
    btn("revert", "Revert", "undo", null, decision === "pending"));
  const decidedBy = decision !== "pending" && item.decided_by && item.source !== "user"
    ? h("span", { class: "decided-by" }, `${DECISION_LABEL[decision]} by ${item.decided_by}`) : null;
  const reason = decision !== "pending" && item.reason
    ? h("span", { class: "decided-reason", title: item.reason }, `“${excerpt(item.reason, 120)}”`) : null;
  const own = item.source === "user"
    ? h("span", { class: "own-tools" },
      iconButton("pencil", "Edit this comment", { class: "sm", dataset: { action: "edit" },
        onclick: (e) => { e.stopPropagation(); actions.editItem(item); } }),
      iconButton("trash", "Delete this comment", { class: "sm", dataset: { action: "delete" },
        onclick: (e) => { e.stopPropagation(); actions.deleteItem(item); } }))
    : null;

  setChildren(el, head, desc, sugg, questions, quote ? h("div", { class: "card-quote-row" }, quote) : null, rewrite, related,
    h("div", { class: "card-meta" }, source, refs, qCount),
    h("div", { class: "card-actions" }, decidedBy, reason, own, h("span", { class: "spacer" }), editRewrite, decide), prompt);
}
