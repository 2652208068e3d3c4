// The section list: per-section status and progress, checkboxes to analyze several,
// analyze all, cancel per running job and cancel all.

import { h, icon, iconButton, pct, reconcile, setChildren, addChildren } from "../dom.js";
import { isSectionBusy, sectionChanges, unfinishedJobs } from "../state.js";
import { changeBadges } from "./versions.js";

export const STATUS_LABEL = {
  idle: "Not analyzed", queued: "Queued", running: "Analyzing", done: "Analyzed", failed: "Failed", cancelled: "Cancelled",
};

export function statusText(s) {
  if (s.status === "running") return `Analyzing ${pct(s.progress)}`;
  return STATUS_LABEL[s.status] || s.status;
}

export function createSectionsView(root, ctx) {
  const heading = h("h2", { class: "pane-title", id: "sections-title" }, "Sections");
  const analyzeAll = h("button", { type: "button", class: "btn btn-sm btn-primary", id: "analyze-all",
    onclick: () => ctx.actions.analyze(null) }, icon("play"), "Analyze all");
  const analyzeSel = h("button", { type: "button", class: "btn btn-sm", id: "analyze-selected",
    onclick: () => ctx.actions.analyze([...ctx.ui.checked]) });
  const cancelAll = h("button", { type: "button", class: "btn btn-sm btn-danger", id: "cancel-all",
    onclick: () => ctx.actions.cancelAll() }, icon("stop"), "Cancel all");
  const selectAll = h("input", { type: "checkbox", id: "select-all-sections", "aria-label": "Select all sections",
    onchange: (e) => ctx.actions.checkAll(e.target.checked) });
  const list = h("ol", { class: "section-list", id: "section-list", "aria-labelledby": "sections-title" });
  addChildren(root, 
    h("div", { class: "pane-head" }, heading, h("span", { class: "pane-count", id: "sections-count" })),
    h("div", { class: "section-actions" }, analyzeAll, analyzeSel, cancelAll),
    h("div", { class: "section-select-all" }, h("label", { for: "select-all-sections" }, selectAll, h("span", null, "Select all"))),
    list,
  );

  const rows = new Map(); // section id -> {el, sig, parts}

  function buildRow(s) {
    const check = h("input", { type: "checkbox", class: "section-check", "aria-label": `Select “${s.title}” for analysis`,
      onchange: (e) => ctx.actions.checkSection(s.id, e.target.checked) });
    const open = h("button", { type: "button", class: "section-open", onclick: () => ctx.actions.goToSection(s.id, { focus: true }) });
    const row = { el: null, parts: null, sig: "", jobId: null };
    const cancel = iconButton("x", `Cancel the analysis of “${s.title}”`, { class: "sm section-cancel",
      onclick: () => row.jobId && ctx.actions.cancelJob(row.jobId) });
    const analyze = iconButton("play", `Analyze “${s.title}”`, { class: "sm section-analyze",
      onclick: () => ctx.actions.analyze([s.id]) });
    const bar = h("div", { class: "progress progress-thin", "aria-hidden": "true" }, h("div", { class: "progress-fill" }));
    const el = h("li", { class: "section-row", dataset: { sectionId: s.id } },
      check, h("div", { class: "section-main" }, open, bar), h("div", { class: "section-tools" }, analyze, cancel));
    row.el = el;
    row.parts = { check, open, cancel, analyze, bar };
    return row;
  }

  function update(model) {
    const { state, ui, counts } = model;
    const busy = unfinishedJobs(state).length;
    cancelAll.hidden = busy === 0;
    cancelAll.setAttribute("aria-label", `Cancel all ${busy} unfinished jobs`);
    const checked = [...ui.checked].filter((id) => state.sections.some((s) => s.id === id));
    setChildren(analyzeSel, icon("play"), `Analyze selected${checked.length ? ` (${checked.length})` : ""}`);
    analyzeSel.disabled = checked.length === 0;
    selectAll.checked = checked.length > 0 && checked.length === state.sections.length;
    selectAll.indeterminate = checked.length > 0 && checked.length < state.sections.length;
    document.getElementById("sections-count").textContent = String(state.sections.length);
    analyzeAll.disabled = state.sections.length === 0 || state.sections.every(isSectionBusy);

    const nodes = [];
    for (const s of state.sections) {
      let row = rows.get(s.id);
      if (!row) { row = buildRow(s); rows.set(s.id, row); }
      const c = counts.get(s.id) || { total: 0, high: 0, medium: 0, low: 0 };
      const isCurrent = ui.currentSectionId === s.id;
      const changes = sectionChanges(s);
      const sig = [s.title, s.status, s.progress, s.job_id, c.total, c.high, c.medium, c.low, isCurrent, ui.checked.has(s.id), s.level,
        changes.join(" "), s.previous_title].join("|");
      if (sig !== row.sig) {
        row.sig = sig;
        const p = row.parts;
        const st = s.status;
        row.el.className = `section-row status-${st}${isCurrent ? " is-current" : ""} level-${Math.min(s.level || 1, 3)}`;
        row.el.dataset.status = st;
        p.check.checked = ui.checked.has(s.id);
        setChildren(p.open, 
          h("span", { class: "section-title" }, h("span", { class: "section-num" }, `${s.index + 1}`), h("span", { class: "section-name" }, s.title)),
          h("span", { class: "section-meta" },
            h("span", { class: `status-dot status-${st}`, "aria-hidden": "true" }),
            h("span", { class: "section-status" }, statusText(s)),
            c.total ? h("span", { class: "risk-dots", "aria-label": `${c.total} findings` },
              c.high ? h("span", { class: "rd rd-high", title: `${c.high} high risk` }, String(c.high)) : null,
              c.medium ? h("span", { class: "rd rd-medium", title: `${c.medium} medium risk` }, String(c.medium)) : null,
              c.low ? h("span", { class: "rd rd-low", title: `${c.low} low risk` }, String(c.low)) : null) : null),
          // Since the previous version: changed / new / moved / renamed.
          changes.length ? h("span", { class: "section-changes" }, changeBadges(s)) : null);
        row.el.dataset.change = changes.join(" ");
        p.check.setAttribute("aria-label", `Select “${s.title}” for analysis`); // a new version may rename it
        p.cancel.setAttribute("aria-label", `Cancel the analysis of “${s.title}”`);
        p.cancel.title = p.cancel.getAttribute("aria-label");
        p.open.setAttribute("aria-current", isCurrent ? "true" : "false");
        p.open.setAttribute("aria-label", `${s.index + 1}. ${s.title} — ${statusText(s)}${c.total ? `, ${c.total} findings` : ""}`
          + (changes.length ? ` — ${changes.join(", ")} since the previous version` : ""));
        const busy = isSectionBusy(s);
        row.jobId = s.job_id;
        p.cancel.hidden = !busy;
        p.analyze.hidden = busy;
        p.analyze.setAttribute("aria-label", `${st === "idle" ? "Analyze" : "Analyze again"} “${s.title}”`);
        p.analyze.title = st === "idle" ? "Analyze this section" : "Analyze this section again";
        p.bar.hidden = !busy;
        p.bar.classList.toggle("is-done", st === "done");
        p.bar.firstChild.style.width = pct(st === "done" ? 1 : s.progress);
      }
      nodes.push(row.el);
    }
    for (const id of [...rows.keys()]) if (!state.sections.some((s) => s.id === id)) rows.delete(id);
    reconcile(list, nodes);
  }

  return { update };
}
