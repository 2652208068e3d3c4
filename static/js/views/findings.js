// The findings pane: filters (risk, type, decision, section), sort, bulk decisions on
// the current filter, and the list of cards (updated in place, keyed by item id).

import { h, icon, reconcile, plural, setChildren, addChildren } from "../dom.js";
import { RISKS, TYPES, DECISIONS, RESOLUTIONS, resolutionOf } from "../state.js";
import { isFiltered } from "../filters.js";
import { askRejectReason, renderCard } from "./card.js";

const LABELS = {
  risk: { high: "High", medium: "Medium", low: "Low" },
  type: { critical: "Critical", important: "Important", suggestion: "Suggestion" },
  decision: { pending: "Pending", accepted: "Accepted", rejected: "Rejected" },
  resolution: { open: "Open", resolved: "Resolved", outdated: "Outdated", new: "New" },
};
const RESOLUTION_HINT = { open: "still open in this version", resolved: "resolved by a new version",
  outdated: "outdated (their section was removed)", new: "raised since the latest version" };

export function createFindingsView(root, ctx) {
  const count = h("span", { class: "pane-count", id: "findings-count" });
  const sort = h("select", { id: "findings-sort", "aria-label": "Sort findings",
    onchange: (e) => ctx.actions.setFilter((f) => { f.sort = e.target.value; }) },
  h("option", { value: "document" }, "Document order"),
  h("option", { value: "risk" }, "Highest risk"),
  h("option", { value: "confidence" }, "Most confident"));
  const section = h("select", { id: "findings-section", "aria-label": "Show findings of section",
    onchange: (e) => ctx.actions.setFilter((f) => { f.section = e.target.value; }) });

  const chipGroups = {};
  const groups = [];
  const GROUP_NAME = { risk: "risk", type: "type", decision: "decision", resolution: "what the latest version did" };
  for (const [facet, values] of [["risk", RISKS], ["type", TYPES], ["decision", DECISIONS], ["resolution", RESOLUTIONS]]) {
    const chips = values.map((v) => h("button", { type: "button", class: `fchip fchip-${facet} fchip-${v}`, dataset: { facet, value: v },
      "aria-pressed": "false", onclick: () => ctx.actions.setFilter((f) => {
        if (f[facet].has(v)) f[facet].delete(v); else f[facet].add(v);
      }) }));
    chipGroups[facet] = chips;
    groups.push(h("div", { class: `fgroup fgroup-${facet}`, role: "group", "aria-label": `Filter by ${GROUP_NAME[facet]}` }, chips));
  }

  const summary = h("span", { class: "bulk-summary", id: "findings-summary", "aria-live": "polite" });
  const acceptAll = h("button", { type: "button", class: "btn btn-xs", id: "accept-all", onclick: () => ctx.actions.bulk("accepted") });
  const rejectAll = h("button", { type: "button", class: "btn btn-xs", id: "reject-all", onclick: () => ctx.actions.bulk("rejected") });
  const revertAll = h("button", { type: "button", class: "btn btn-xs btn-ghost", id: "revert-all", onclick: () => ctx.actions.bulk("pending") });
  const clearF = h("button", { type: "button", class: "btn btn-xs btn-ghost", id: "clear-filters", "aria-label": "Clear the filters",
    title: "Clear the filters", onclick: () => ctx.actions.clearFilter() }, icon("x"), "Clear");
  const resolutionGroup = groups[groups.length - 1]; // shown once the review has a second version
  const list = h("div", { class: "findings-list", id: "findings-list", role: "list", tabIndex: -1, "aria-label": "Findings" });
  // Before the findings of sections a new version removed (outdated, kept with their old titles).
  const removedDivider = h("div", { class: "findings-group", id: "findings-removed-group", role: "listitem" },
    h("span", null, "Removed sections"));
  const empty = h("div", { class: "empty", id: "findings-empty", hidden: true });

  addChildren(root, 
    h("div", { class: "pane-head" }, h("h2", { class: "pane-title" }, "Findings"), count, h("span", { class: "spacer" }), section, sort),
    h("div", { class: "filters" }, groups),
    h("div", { class: "bulk" }, summary, h("span", { class: "spacer" }), acceptAll, rejectAll, revertAll, clearF),
    list, empty,
  );

  const cards = new Map(); // id -> {el, sig}
  let sectionSig = "";

  function update(model) {
    const { state, ui, visible, facets, decisionOf, optimistic } = model;
    const f = ui.filter;
    count.textContent = String(state.items.length);
    sort.value = f.sort;

    const removedTitles = new Map(state.removed_sections.map((r) => [r.id, r.title]));
    const ssig = state.sections.map((s) => s.id + s.title).join("|") + ui.currentSectionId
      + state.removed_sections.map((r) => r.id + r.title).join("|");
    if (ssig !== sectionSig) {
      sectionSig = ssig;
      const cur = state.sections.find((s) => s.id === ui.currentSectionId);
      setChildren(section, h("option", { value: "all" }, "All sections"),
        h("option", { value: "current" }, cur ? `Current section (${cur.index + 1})` : "Current section"),
        state.sections.map((s) => h("option", { value: s.id }, `${s.index + 1}. ${s.title}`)),
        state.removed_sections.length ? h("optgroup", { label: "Removed sections" },
          state.removed_sections.map((r) => h("option", { value: r.id }, r.title))) : null);
    }
    section.value = f.section;

    const rounds = state.version > 1;
    resolutionGroup.hidden = !rounds && f.resolution.size === 0;
    for (const facet of ["risk", "type", "decision", "resolution"]) {
      for (const chip of chipGroups[facet]) {
        const v = chip.dataset.value;
        const n = facets[facet][v] || 0;
        const on = f[facet].has(v);
        chip.setAttribute("aria-pressed", String(on));
        setChildren(chip, h("span", { class: "fchip-dot", "aria-hidden": "true" }), LABELS[facet][v], h("span", { class: "fchip-n" }, String(n)));
        chip.setAttribute("aria-label", `${LABELS[facet][v]}${facet === "risk" ? " risk" : ""} (${n})`);
        chip.title = facet === "resolution" ? `Show only the findings ${RESOLUTION_HINT[v]} (click again to clear)`
          : `Show only ${LABELS[facet][v].toLowerCase()}${facet === "risk" ? "-risk" : ""} findings (click again to clear)`;
      }
    }

    const filtered = isFiltered(f);
    const toAccept = visible.filter((i) => decisionOf(i) !== "accepted").length;
    const toReject = visible.filter((i) => decisionOf(i) !== "rejected").length;
    const toRevert = visible.filter((i) => decisionOf(i) !== "pending").length;
    summary.textContent = filtered ? `${visible.length} of ${state.items.length}` : plural(state.items.length, "finding");
    summary.title = filtered ? `${visible.length} of ${plural(state.items.length, "finding")} match the filters; the buttons act on these` : "";
    const scope = filtered ? " shown" : "";
    setChildren(acceptAll, icon("check"), "Accept all");
    acceptAll.setAttribute("aria-label", `Accept all ${toAccept}${scope} findings`);
    acceptAll.title = `Accept the ${toAccept}${scope} findings not yet accepted`;
    acceptAll.disabled = toAccept === 0;
    setChildren(rejectAll, icon("x"), "Reject all");
    rejectAll.setAttribute("aria-label", `Reject all ${toReject}${scope} findings`);
    rejectAll.title = `Reject the ${toReject}${scope} findings not yet rejected`;
    rejectAll.disabled = toReject === 0;
    setChildren(revertAll, icon("undo"), "Revert all");
    revertAll.setAttribute("aria-label", `Revert all ${toRevert}${scope} decided findings to pending`);
    revertAll.title = `Set the ${toRevert}${scope} decided findings back to pending`;
    revertAll.disabled = toRevert === 0;
    clearF.hidden = !filtered;

    const titles = new Map(state.sections.map((s) => [s.id, s.title]));
    const nodes = [];
    let dividerShown = false;
    for (const item of visible) {
      const gone = !titles.has(item.section_id) && removedTitles.has(item.section_id);
      if (gone && !dividerShown && f.sort === "document") { nodes.push(removedDivider); dividerShown = true; }
      let c = cards.get(item.id);
      if (!c) {
        const el = h("article", { class: "card", role: "listitem", tabIndex: -1 });
        el.addEventListener("click", (e) => {
          if (e.target.closest("button, a, input, select, textarea") || !document.getSelection().isCollapsed) return;
          ctx.actions.selectItem(el.dataset.itemId, { scrollDoc: true, scrollCard: false });
        });
        c = { el, sig: null, item: null, fresh: true };
        cards.set(item.id, c);
      }
      const view = { decision: decisionOf(item), resolution: resolutionOf(state, item),
        sectionTitle: titles.get(item.section_id) || (gone ? `${removedTitles.get(item.section_id)} (removed)` : ""),
        selected: ui.selectedId === item.id, pending: optimistic.has(item.id), hasQuote: model.hasQuote(item.id),
        relatedTitle: (item.related_section_id && titles.get(item.related_section_id)) || "" };
      const sig = `${view.decision}|${view.sectionTitle}|${view.selected}|${view.pending}|${view.hasQuote}|${view.relatedTitle}|${view.resolution}`;
      if (c.item !== item || c.sig !== sig) {
        const focusedAction = c.el.contains(document.activeElement) ? document.activeElement.dataset.action || "card" : null;
        renderCard(c.el, item, view, ctx.actions);
        if (c.fresh) { c.el.classList.add("is-new"); c.fresh = false; }
        c.item = item;
        c.sig = sig;
        if (focusedAction) {
          const target = focusedAction === "card" ? c.el : c.el.querySelector(`[data-action="${focusedAction}"]`) || c.el;
          target.focus({ preventScroll: true });
        }
      }
      nodes.push(c.el);
    }
    const keep = new Set(state.items.map((i) => i.id));
    for (const id of [...cards.keys()]) if (!keep.has(id)) cards.delete(id);
    reconcile(list, nodes);

    empty.hidden = visible.length > 0;
    if (!visible.length) {
      const analyzing = state.sections.some((s) => s.status === "queued" || s.status === "running");
      setChildren(empty, 
        state.items.length
          ? h("p", null, "No findings match these filters. ", h("button", { type: "button", class: "btn btn-xs", onclick: () => ctx.actions.clearFilter() }, "Clear filters"))
          : analyzing ? h("p", null, "Analyzing… findings appear here as soon as they are found.")
            : h("p", null, "No findings yet. Analyze all sections, or select some in the section list and analyze them. You can also select text in the document to add your own comment."));
    }
  }

  function scrollToCard(id, { focus = false } = {}) {
    const c = cards.get(id);
    if (!c || !c.el.isConnected) return;
    const tall = c.el.offsetHeight > list.clientHeight - 16;
    c.el.scrollIntoView({ block: tall ? "start" : "nearest", behavior: matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth" });
    if (focus) c.el.focus({ preventScroll: true });
  }

  /** The `r` shortcut: the card's reject prompt, scrolled into view. False when the card is not
   * shown (filtered out) or is already rejected. */
  function askReject(id) {
    const c = cards.get(id);
    if (!c || !c.el.isConnected || !askRejectReason(c.el)) return false;
    scrollToCard(id);
    return true;
  }

  return { update, scrollToCard, askReject };
}
