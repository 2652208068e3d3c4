// Rounds on the page: the "New version…" control in the header, the round summary bar under
// it ("Version 2: 3 resolved · 5 still open · 2 new · 1 outdated"), and the Changes dialog:
// each changed section's word diff against its previous text, the added, moved and renamed
// ones, the removed sections with their old text, "Analyze changed sections", and every version.
// All document text goes in as text nodes (dom.js h / diff parts), never as HTML.

import { wordDiff } from "../diff.js";
import { h, icon, plural, setChildren } from "../dom.js";
import { changedSectionIds, isSectionBusy, roundSummary, sectionChanges } from "../state.js";
import { dialogShell } from "./dialogs.js";

/** The kinds of document the server reads (as on the upload page). */
export const VERSION_TYPES = [".docx", ".pdf", ".md", ".markdown", ".txt", ".rst", ".adoc"];
const ACCEPT = ".docx,.pdf,.md,.markdown,.txt,.rst,.adoc,application/vnd.openxmlformats-officedocument.wordprocessingml.document,"
  + "application/pdf,text/markdown,text/plain";

const CHANGE_LABEL = { changed: "Changed", added: "New", moved: "Moved", renamed: "Renamed" };
const CHANGE_TITLE = {
  changed: "Its text changed since the previous version",
  added: "A section the previous version did not have",
  moved: "It moved to another place in the document",
  renamed: "Its title changed since the previous version",
};
const CONTEXT = 160; // characters of unchanged text kept on each side of a change
const REMOVED_MAX = 1500; // characters of a removed section's text shown

/** Small badges for a section's changes since the previous version (none on a first version). */
export function changeBadges(section, { prefix = "" } = {}) {
  return sectionChanges(section).map((kind) => h("span", { class: `change-badge change-${kind}`, dataset: { change: kind },
    title: kind === "renamed" ? `Renamed from “${section.previous_title}”` : CHANGE_TITLE[kind] }, `${prefix}${CHANGE_LABEL[kind]}`));
}

/** The round in words: "Version 2: 3 resolved · 5 still open · 2 new · 1 outdated". */
export function roundText(r) {
  return `Version ${r.version}: ${r.resolved} resolved · ${r.open} still open · ${r.new} new · ${r.outdated} outdated`;
}

function sectionsText(s) {
  if (!s) return "";
  const parts = [];
  if (s.changed) parts.push(`${s.changed} changed`);
  if (s.added) parts.push(`${s.added} added`);
  if (s.removed) parts.push(`${s.removed} removed`);
  return parts.length ? `Sections: ${parts.join(", ")}` : "No section changed";
}

function when(at) {
  if (!at) return "";
  const d = new Date(typeof at === "number" ? at * 1000 : at);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** Cut a long unchanged run down to its ends (at word boundaries): `keepStart`/`keepEnd` chars. */
function elide(text, keepStart, keepEnd) {
  if (text.length <= keepStart + keepEnd + 40) return [text];
  let a = keepStart ? text.lastIndexOf(" ", keepStart) : 0;
  if (keepStart && a < keepStart / 2) a = keepStart;
  let b = keepEnd ? text.indexOf(" ", text.length - keepEnd) : text.length;
  if (b < 0 || (keepEnd && b > text.length - keepEnd / 2)) b = text.length - keepEnd;
  return [text.slice(0, a), null, text.slice(b)];
}

/** A section's old text against its new one, word by word; long unchanged stretches elided. */
export function renderChangeDiff(before, after) {
  const parts = wordDiff(before, after);
  const out = [];
  parts.forEach((p, i) => {
    if (p.op !== "same") {
      out.push(h(p.op === "del" ? "del" : "ins", { class: `diff-${p.op}` }, p.text));
      return;
    }
    const first = i === 0;
    const last = i === parts.length - 1;
    for (const piece of elide(p.text, first ? 0 : CONTEXT, last ? 0 : CONTEXT)) {
      if (piece === null) out.push(h("span", { class: "diff-skip", title: "Unchanged text left out" }, " … "));
      else if (piece) out.push(piece);
    }
  });
  return h("div", { class: "change-diff diff" }, out);
}

// ----------------------------------------------------------- the control ---

/** The header's "New version…": a file input behind a button; the upload runs in ctx.actions. */
export function createVersionControl(ctx) {
  const input = h("input", { type: "file", id: "version-file", class: "visually-hidden", accept: ACCEPT, tabIndex: -1,
    "aria-hidden": "true",
    onchange: () => {
      const file = input.files && input.files[0];
      input.value = ""; // the same file can be chosen again after an error
      if (file) ctx.actions.uploadVersion(file);
    } });
  const text = h("span", { class: "btn-text" }, "New version…");
  const button = h("button", { type: "button", class: "btn btn-sm btn-ghost", id: "new-version",
    "aria-label": "Upload the next version of the document", title: "Upload the next version of the document (.docx, .pdf, .md or .txt): each finding is re-checked against it",
    onclick: () => ctx.actions.chooseVersion() }, icon("upload"), text);
  const el = h("span", { class: "version-control", role: "group", "aria-label": "Versions" }, button, input);

  /** `busy`: null, or the upload's progress (a fraction, or null when unknown) while it runs. */
  function setBusy(busy, fraction = null) {
    button.disabled = !!busy;
    const other = document.getElementById("doc-new-version");
    if (other) other.disabled = !!busy;
    button.setAttribute("aria-busy", busy ? "true" : "false");
    text.textContent = busy ? (fraction === null ? "Uploading…" : `Uploading ${Math.round(fraction * 100)}%`) : "New version…";
  }
  return { el, input, button, setBusy };
}

// ------------------------------------------------------- the round bar ---

export function createRoundBar(root, ctx) {
  const summary = h("span", { class: "round-text", id: "round-summary" });
  const detail = h("span", { class: "round-detail" });
  const show = h("button", { type: "button", class: "btn btn-xs", id: "show-changes",
    onclick: () => ctx.actions.openChanges() }, "Show changes");
  const analyze = h("button", { type: "button", class: "btn btn-xs btn-ghost round-analyze", id: "round-analyze-changed",
    onclick: () => ctx.actions.analyzeChanged() });
  setChildren(root, icon("file", 14), h("span", { class: "round-words" }, summary, detail), show, analyze);
  let sig = "";

  function update(model) {
    const r = roundSummary(model.state);
    root.hidden = !r;
    if (!r) { sig = ""; return; }
    const changed = changedSectionIds(model.state);
    const busy = model.state.sections.filter((s) => changed.includes(s.id) && isSectionBusy(s)).length;
    const next = `${roundText(r)}|${sectionsText(r.sections)}|${r.by}|${changed.length}|${busy}`;
    if (next === sig) return;
    sig = next;
    summary.textContent = roundText(r);
    detail.textContent = ` · ${sectionsText(r.sections)}${r.by ? ` · uploaded by ${r.by}` : ""}`;
    root.dataset.version = String(r.version);
    setChildren(analyze, icon("play"), `Analyze changed (${changed.length})`);
    analyze.hidden = changed.length === 0;
    analyze.disabled = busy === changed.length;
    analyze.title = "Analyze the changed and the new sections only";
  }
  return { update };
}

// ------------------------------------------------------ the changes view ---

export function createChangesDialog(dialog, ctx) {
  const shell = dialogShell(dialog, "changes-title", "Changes since the last version");
  const summary = h("p", { class: "changes-summary", id: "changes-summary" });
  const analyzeChanged = h("button", { type: "button", class: "btn btn-sm btn-primary", id: "analyze-changed",
    onclick: () => { ctx.actions.analyzeChanged(); shell.close(); } });
  const analyzeAll = h("button", { type: "button", class: "btn btn-sm", id: "changes-analyze-all",
    onclick: () => { ctx.actions.analyze(null); shell.close(); } }, icon("play"), "Analyze all");
  const sections = h("div", { class: "changes-list", id: "changes-sections" });
  const removed = h("div", { class: "changes-list", id: "changes-removed" });
  const removedHead = h("h3", { class: "changes-head" }, "Removed sections");
  const versions = h("ol", { class: "versions-list", id: "versions-list" });
  setChildren(shell.body, summary, h("div", { class: "changes-actions" }, analyzeChanged, analyzeAll),
    h("h3", { class: "changes-head" }, "Changed sections"), sections, removedHead, removed,
    h("h3", { class: "changes-head" }, "Versions"), versions);
  let sig = "";
  let focusSection = null;

  function sectionBlock(s, outdated) {
    const kinds = sectionChanges(s);
    let body;
    if (s.change === "changed" && s.previous_text !== null) body = renderChangeDiff(s.previous_text, s.text);
    else if (s.change === "added") body = renderChangeDiff("", s.text);
    else body = h("p", { class: "changes-note" }, "The text did not change.");
    return h("article", { class: "change-section", dataset: { sectionId: s.id, change: kinds.join(" ") } },
      h("header", { class: "change-section-head" },
        h("span", { class: "change-section-title" }, h("span", { class: "doc-section-num" }, `${s.index + 1}`), " ", s.title),
        h("span", { class: "change-badges" }, changeBadges(s)),
        h("button", { type: "button", class: "btn btn-xs btn-ghost", onclick: () => { shell.close(); ctx.actions.goToSection(s.id); } },
          "Go to section")),
      s.previous_title && s.previous_title !== s.title
        ? h("p", { class: "changes-note" }, `Renamed from “${s.previous_title}”`) : null,
      outdated ? h("p", { class: "changes-note" }, outdated) : null,
      body);
  }

  function render(state) {
    const r = roundSummary(state);
    const changed = changedSectionIds(state);
    const last = state.versions.find((v) => v.version === state.version) || {};
    const bits = [r ? roundText(r) : `Version ${state.version}`];
    if (last.filename) bits.push(last.filename);
    if (last.by) bits.push(`uploaded by ${last.by}`);
    if (last.at) bits.push(when(last.at));
    summary.textContent = `${bits.join(" · ")}.${r ? ` ${sectionsText(r.sections)}.` : ""}`;
    setChildren(analyzeChanged, icon("play"), `Analyze changed sections (${changed.length})`);
    analyzeChanged.disabled = changed.length === 0;
    analyzeChanged.title = changed.length ? "Analyze only the changed and the new sections" : "No section changed";
    analyzeAll.disabled = state.sections.length === 0;

    const marked = state.sections.filter((s) => sectionChanges(s).length);
    setChildren(sections, marked.length ? marked.map((s) => sectionBlock(s, "")) : h("p", { class: "changes-note" },
      state.version > 1 ? "No section changed in this version." : "This is the first version of the document."));

    const outdatedIn = new Map();
    for (const i of state.items) {
      if (i.resolution === "outdated") outdatedIn.set(i.section_id, (outdatedIn.get(i.section_id) || 0) + 1);
    }
    removedHead.hidden = state.removed_sections.length === 0;
    setChildren(removed, state.removed_sections.map((rs) => {
      const text = rs.text || "";
      const n = outdatedIn.get(rs.id) || 0;
      return h("article", { class: "change-section change-removed", dataset: { sectionId: rs.id } },
        h("header", { class: "change-section-head" },
          h("span", { class: "change-section-title" }, rs.title),
          h("span", { class: "change-badges" }, h("span", { class: "change-badge change-removed" },
            rs.version ? `Removed in version ${rs.version}` : "Removed"))),
        n ? h("p", { class: "changes-note" }, `${plural(n, "finding")} of this section ${n === 1 ? "is" : "are"} outdated; `
          + "the findings list keeps them under “Removed sections”.") : null,
        text ? h("div", { class: "change-diff diff" }, h("del", { class: "diff-del" },
          text.length > REMOVED_MAX ? text.slice(0, REMOVED_MAX) : text),
        text.length > REMOVED_MAX ? h("span", { class: "diff-skip" }, ` … (${(text.length - REMOVED_MAX).toLocaleString()} more characters)`) : null)
          : h("p", { class: "changes-note" }, "Its text is not available in this tab; reload to see it."));
    }));

    const list = state.versions.length ? state.versions : [{ version: state.version, filename: state.filename }];
    setChildren(versions, list.slice().reverse().map((v) => {
      const counts = typeof v.resolved === "number"
        ? `${v.resolved} resolved · ${v.open} open · ${v.outdated} outdated` : "";
      return h("li", { class: `version-entry${v.version === state.version ? " is-current" : ""}`, dataset: { version: String(v.version) } },
        h("span", { class: "version-num" }, `v${v.version}`),
        h("span", { class: "version-text" }, [v.filename, v.by ? `by ${v.by}` : "", when(v.at), counts].filter(Boolean).join(" · ")));
    }));
  }

  function update(model) {
    if (!shell.isOpen) return;
    const st = model.state;
    const next = [st.version, st.sections.map((s) => `${s.id}:${s.change}:${s.text.length}:${s.title}:${isSectionBusy(s)}`).join(","),
      st.removed_sections.map((r) => `${r.id}:${(r.text || "").length}`).join(","),
      st.items.map((i) => `${i.resolution || ""}${i.settled_in || ""}`).join(""), st.versions.length].join("|");
    if (next === sig) return;
    sig = next;
    render(st);
    if (focusSection) {
      const el = sections.querySelector(`[data-section-id="${CSS.escape(focusSection)}"]`);
      focusSection = null;
      if (el) el.scrollIntoView({ block: "start" });
    }
  }

  return {
    open(sectionId = null) {
      sig = "";
      focusSection = sectionId;
      shell.open();
    },
    update,
    get isOpen() { return shell.isOpen; },
  };
}
