// The statistics dialog: counts by risk, type, decision and section, completion,
// model usage and its cost, drawn as small CSS bars; exports.

import { h, icon, pct, setChildren } from "../dom.js";
import { computeStats, formatTokens, formatCost } from "../stats.js";
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

export function createStatsDialog(dialog, ctx) {
  const shell = dialogShell(dialog, "stats-title", "Statistics");
  let model = null;

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
      bySection, usage, exports));
  }

  return {
    open() { shell.open(); render(); },
    update(m) { model = m; render(); },
    get isOpen() { return shell.isOpen; },
  };
}
