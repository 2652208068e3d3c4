// The statistics dialog: counts by risk, type, decision and section, completion,
// model usage and its cost, drawn as small CSS bars; exports.

import { h, icon, pct, setChildren } from "../dom.js";
import { AUDIT_GROUPS, auditFacets, auditGroup, computeStats, defaultAuditFilter, filterAudit, formatCost,
  formatTokens } from "../stats.js";
import { dialogShell } from "./dialogs.js";

const LABELS = {
  high: "High", medium: "Medium", low: "Low",
  critical: "Critical", important: "Important", suggestion: "Suggestion",
  pending: "Pending", accepted: "Accepted", rejected: "Rejected",
  claude: "Claude", offline: "Offline rules", user: "Reviewers",
};

function bar(fraction, cls) {
  const fill = h("span", { class: `bar-fill ${cls || ""}` });
  fill.style.width = pct(fraction);
  return h("span", { class: "bar", "aria-hidden": "true" }, fill);
}

function barRows(title, counts, total, clsPrefix) {
  const max = Math.max(1, ...Object.values(counts));
  return h("section", { class: "stat-block" }, h("h3", null, title),
    h("dl", { class: "bars" }, Object.entries(counts).map(([k, n]) => [
      h("dt", null, LABELS[k] || k),
      h("dd", { "aria-label": `${LABELS[k] || k}: ${n} of ${total}` }, bar(n / max, `${clsPrefix}-${k}`), h("span", { class: "bar-n" }, String(n))),
    ])));
}

const HISTORY_SHOWN = 100;
const DECIDED_WORD = { accepted: "accepted", rejected: "rejected", pending: "reopened" };

function excerpt(s, n = 80) {
  const t = String(s || "").replace(/\s+/g, " ").trim();
  return t.length > n ? `${t.slice(0, n - 1)}…` : t;
}

function when(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

/** One audit entry as a line of text (names, reasons and details are data: text only). */
function describe(e, items) {
  const item = e.item_id ? items.get(e.item_id) : null;
  const what = item ? `“${excerpt(item.description, 70)}”` : "a finding";
  const who = e.by || "";
  switch (e.kind) {
    case "review.created": return `Review created: ${e.detail || ""}`;
    case "review.version": return `${who ? `${who} uploaded a new version` : "New version"}${e.detail ? `: ${excerpt(e.detail, 90)}` : ""}`;
    case "item.decided": return `${who || "Someone"} ${DECIDED_WORD[e.decision] || e.decision} ${what}${e.reason ? ` — ${e.reason}` : ""}`;
    case "item.added": return `${who ? `${who} added` : "Added"} ${what}`;
    case "item.updated": return `${who ? `${who} changed` : "Changed"} ${what}${e.detail ? `: ${excerpt(e.detail, 90)}` : ""}`;
    case "item.removed": return `Removed ${what}`;
    case "chat.message": return `${who || "Someone"} asked: ${excerpt(e.detail, 90)}`;
    case "chat.completed": return `Answered: ${excerpt(e.detail, 90)}`;
    case "export": return `${who || "Someone"} exported the .docx (${e.detail || ""})`;
    case "job.queued": return `Started ${e.detail || "an analysis"}`;
    case "job.completed": return `Finished ${e.detail || "an analysis"}`;
    case "job.failed": return `Failed: ${e.detail || "an analysis"}`;
    case "job.cancelled": return `Cancelled ${e.detail || "an analysis"}`;
    default: return `${e.kind}${e.detail ? `: ${e.detail}` : ""}`;
  }
}

export function createStatsDialog(dialog, ctx) {
  const shell = dialogShell(dialog, "stats-title", "Statistics");
  let model = null;
  let history = { entries: null, error: null };

  async function loadHistory() {
    try {
      const r = await ctx.actions.loadAudit();
      history = { entries: r.entries || [], error: null };
    } catch (e) {
      history = { entries: history.entries, error: e.message || "The history could not be read." };
    }
    render();
  }

  // The History: the audit trail, newest first, filtered by kind of change and by person.
  // Filtering re-renders this block only (the rest of the dialog follows the review's state).
  const historyEl = h("section", { class: "stat-block stat-wide history-block", id: "history" });
  let filter = defaultAuditFilter();
  const setFilter = (fn) => { fn(filter); renderHistory(); };

  function historyFilters(entries) {
    const facets = auditFacets(entries, filter);
    const chips = AUDIT_GROUPS.map(([key, label]) => {
      const n = facets.groups[key];
      const on = filter.groups.has(key);
      return h("button", { type: "button", class: `fchip hchip hchip-${key}`, "aria-pressed": String(on),
        dataset: { hfilter: `group-${key}`, group: key }, "aria-label": `${label} (${n})`,
        title: on ? `Showing ${label.toLowerCase()} (click again to clear)` : `Show only ${label.toLowerCase()}`,
        disabled: !n && !on,
        onclick: () => setFilter((f) => { if (f.groups.has(key)) f.groups.delete(key); else f.groups.add(key); }) },
      label, h("span", { class: "fchip-n" }, String(n)));
    });
    const people = facets.people.slice();
    if (filter.person !== null && !people.some(([p]) => p === filter.person)) people.push([filter.person, 0]);
    const total = people.reduce((n, [, c]) => n + c, 0);
    const person = h("select", { class: "select select-xs", id: "history-person", "aria-label": "Show changes by",
      dataset: { hfilter: "person" },
      onchange: (e) => setFilter((f) => { f.person = e.target.value === "*" ? null : e.target.value.slice(1); }) },
    h("option", { value: "*" }, `Everyone (${total})`),
    people.map(([p, n]) => h("option", { value: `=${p}` }, `${p || "No name (analyses, model findings)"} (${n})`)));
    person.value = filter.person === null ? "*" : `=${filter.person}`;
    return h("div", { class: "history-filters" },
      h("div", { class: "fgroup", role: "group", "aria-label": "Filter the history by kind of change" }, chips),
      h("label", { class: "history-person" }, h("span", null, "By"), person));
  }

  function renderHistory() {
    const refocus = historyEl.contains(document.activeElement) ? document.activeElement.dataset.hfilter : null;
    const items = new Map(((model && model.state.items) || []).map((i) => [i.id, i]));
    const all = history.entries || [];
    let body;
    let summary = null;
    if (history.entries === null) body = h("p", { class: "hint" }, history.error ? `History unavailable: ${history.error}` : "Loading…");
    else if (!all.length) body = h("p", { class: "hint" }, "Nothing recorded yet.");
    else {
      const shown = filterAudit(all, filter);
      const filtered = shown.length !== all.length;
      summary = h("span", { class: "hint", id: "history-count" },
        filtered ? ` (${shown.length} of ${all.length}${shown.length > HISTORY_SHOWN ? `, the last ${HISTORY_SHOWN} shown` : ""})`
          : all.length > HISTORY_SHOWN ? ` (the last ${HISTORY_SHOWN} of ${all.length})` : ` (${all.length})`);
      const newest = shown.slice(-HISTORY_SHOWN).reverse();
      body = [historyFilters(all),
        newest.length
          ? h("ol", { class: "history", id: "history-list", "aria-label": "Changes to this review, newest first" },
            newest.map((e) => h("li", { class: `history-entry kind-${e.kind.replace(/[^a-z]/g, "-")}`,
              dataset: { kind: e.kind, group: auditGroup(e.kind), by: e.by || "" } },
            h("time", { datetime: e.at, title: e.at }, when(e.at)), h("span", { class: "history-text" }, describe(e, items)))))
          : h("p", { class: "hint", id: "history-none" }, "No change matches these filters. ",
            h("button", { type: "button", class: "btn btn-xs", id: "history-clear", onclick: () => setFilter((f) => Object.assign(f, defaultAuditFilter())) }, "Clear filters"))];
    }
    setChildren(historyEl, h("h3", null, "History", summary), body,
      h("div", { class: "export-row" },
        h("button", { type: "button", class: "btn btn-sm btn-ghost", id: "history-refresh", onclick: () => loadHistory() }, "Refresh"),
        h("button", { type: "button", class: "btn btn-sm", id: "export-audit", onclick: () => ctx.actions.downloadAudit() }, icon("download"), "Audit trail (CSV)")));
    const again = refocus && historyEl.querySelector(`[data-hfilter="${refocus}"]`);
    if (again) again.focus({ preventScroll: true });
  }

  function historyBlock() {
    renderHistory();
    return historyEl;
  }

  function render() {
    if (!model || !shell.isOpen) return;
    const st = computeStats(model.state);
    const u = st.usage;
    const r = model.state.reviewer;
    const completion = h("section", { class: "stat-block stat-wide" }, h("h3", null, "Completion"),
      h("div", { class: "completion" },
        h("div", { class: "completion-row" }, h("span", null, "Sections analyzed"), bar(st.sectionsFraction, "fill-accent"),
          h("span", { class: "bar-n" }, `${st.sectionsDone} / ${st.sectionsTotal}`)),
        h("div", { class: "completion-row" }, h("span", null, "Findings decided"), bar(st.decidedFraction, "fill-ok"),
          h("span", { class: "bar-n" }, `${st.decided} / ${st.total}`))));
    const sectionMax = Math.max(1, ...st.bySection.map((s) => s.total));
    const bySection = h("section", { class: "stat-block stat-wide" }, h("h3", null, "By section"),
      h("dl", { class: "bars bars-sections" }, st.bySection.map((s) => {
        const stack = h("span", { class: "bar bar-stack", "aria-hidden": "true" });
        for (const k of ["high", "medium", "low"]) {
          if (!s[k]) continue;
          const seg = h("span", { class: `bar-fill risk-${k}`, title: `${s[k]} ${k}` });
          seg.style.width = pct(s[k] / sectionMax);
          stack.appendChild(seg);
        }
        return [h("dt", { title: s.title }, s.title),
          h("dd", { "aria-label": `${s.title}: ${s.total} findings (${s.high} high, ${s.medium} medium, ${s.low} low)` }, stack, h("span", { class: "bar-n" }, String(s.total)))];
      })));
    const usage = h("section", { class: "stat-block stat-wide" }, h("h3", null, "Model usage"),
      r && r.reviewer === "claude"
        ? h("p", { class: "hint" }, `Claude${r.model ? ` · ${r.model}` : ""}`)
        : h("p", { class: "hint" }, "Offline reviewer — the built-in rules use no model."),
      u.any || u.cost !== null
        ? h("dl", { class: "usage-grid" },
          h("dt", null, "Input tokens"), h("dd", null, formatTokens(u.tokens.input)),
          h("dt", null, "Output tokens"), h("dd", null, formatTokens(u.tokens.output)),
          h("dt", null, "Cache read"), h("dd", null, formatTokens(u.tokens.cacheRead)),
          h("dt", null, "Cache write"), h("dd", null, formatTokens(u.tokens.cacheWrite)),
          u.tokens.thinking > 0 ? [h("dt", { title: "Included in the output tokens" }, "Thinking"), h("dd", { id: "usage-thinking" }, formatTokens(u.tokens.thinking))] : null,
          h("dt", null, "Cost"), h("dd", { class: "cost", id: "usage-cost" }, formatCost(u.cost)))
        : h("p", { class: "hint" }, "No model usage recorded for this review."));
    const exports = h("section", { class: "stat-block stat-wide" }, h("h3", null, "Export"),
      h("div", { class: "export-row" },
        h("button", { type: "button", class: "btn btn-sm", id: "export-json", onclick: () => ctx.actions.exportItems("json") }, icon("download"), "Findings (JSON)"),
        h("button", { type: "button", class: "btn btn-sm", id: "export-csv", onclick: () => ctx.actions.exportItems("csv") }, icon("download"), "Findings (CSV)"),
        h("button", { type: "button", class: "btn btn-sm", id: "export-chat", onclick: () => ctx.actions.exportChat() }, icon("download"), "Chat (Markdown)"),
        h("button", { type: "button", class: "btn btn-sm btn-primary", onclick: () => ctx.actions.downloadDocx() }, icon("download"), "Reviewed .docx")));
    setChildren(shell.body, h("div", { class: "stats-grid", id: "stats" },
      completion,
      barRows("By risk", st.byRisk, st.total, "risk"),
      barRows("By type", st.byType, st.total, "type"),
      barRows("By decision", st.byDecision, st.total, "dec"),
      bySection, usage, exports, historyBlock()));
  }

  return {
    open() { shell.open(); render(); loadHistory(); },
    update(m) { model = m; render(); },
    get isOpen() { return shell.isOpen; },
  };
}
