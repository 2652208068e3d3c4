// The document pane: every section's text, with each finding's quote highlighted in its
// risk colour (<mark> elements built from text nodes), the current section, and
// "Add comment" on a text selection within one section.

import { h, icon, reconcile, setChildren, addChildren } from "../dom.js";
import { segments, textOffset } from "../quotes.js";
import { hasBlockMarks, hasWordOrPdfMarks, renderMarked } from "../markdown.js";
import { isSectionBusy, sectionChanges } from "../state.js";
import { statusText } from "./sections.js";
import { changeBadges } from "./versions.js";

const RISK_WORD = { high: "High", medium: "Medium", low: "Low" };

export function createDocumentView(root, ctx) {
  const head = h("div", { class: "doc-head" });
  const body = h("div", { class: "doc-body", id: "doc-body" });
  const addBtn = h("button", { type: "button", class: "btn btn-sm btn-primary add-comment", id: "add-comment", hidden: true,
    onmousedown: (e) => e.preventDefault(), // keep the selection
    onclick: () => {
      if (!pendingSel) return;
      const sel = pendingSel;
      hideAdd();
      document.getSelection().removeAllRanges();
      ctx.actions.openComment({ sectionId: sel.sectionId, quote: sel.quote });
    } }, icon("plus"), "Add comment");
  const addHint = h("div", { class: "add-hint", role: "status", hidden: true }, "Select text within one section to comment on it.");
  addChildren(root, head, body, addBtn, addHint, h("div", { class: "doc-end", "aria-hidden": "true" }));

  const articles = new Map(); // section id -> {el, text, headEl, sig, headSig, found}
  let pendingSel = null;
  let activeItem = null;
  let lastState = null;
  let headSig = "";

  function buildArticle(s) {
    const title = h("h2", { class: "doc-section-title", id: `sec-${s.id}` });
    const meta = h("div", { class: "doc-section-meta" });
    const text = h("div", { class: "section-text", dataset: { sectionId: s.id } });
    const note = h("div", { class: "doc-section-note", role: "status", hidden: true });
    const el = h("article", { class: "doc-section", id: `doc-${s.id}`, dataset: { sectionId: s.id }, "aria-labelledby": `sec-${s.id}` },
      h("header", { class: "doc-section-head" }, title, meta), note, text);
    text.addEventListener("click", (e) => {
      const mark = e.target.closest("mark[data-items]");
      if (!mark || !document.getSelection().isCollapsed) return;
      const ids = mark.dataset.items.split(" ");
      // Repeated clicks on overlapping quotes step through their findings.
      const at = ids.indexOf(activeItem);
      const next = ids[(at + 1) % ids.length];
      ctx.actions.selectItem(next, { scrollCard: true, scrollDoc: false, reveal: "findings" });
    });
    return { el, title, meta, note, text, sig: "", headSig: "", found: new Set() };
  }

  function renderText(a, s, items, decisionOf, ref, opensGroup) {
    const { runs, found } = segments(s.text, items, ref);
    a.found = found;
    // A text node of the section's text, wrapped in the highlights of its run.
    const decorate = (node, run) => {
      if (run.ref) {
        // The passage shown from a chat quote or a "Compare with" link (one at a time).
        const refMark = document.createElement("mark");
        refMark.className = "ref-hl";
        refMark.appendChild(node);
        node = refMark;
      }
      if (!run.items.length) return node;
      const top = run.items[0];
      const allRejected = run.items.every((i) => decisionOf(i) === "rejected");
      const mark = document.createElement("mark");
      mark.className = `q q-${top.risk}${allRejected ? " is-rejected" : ""}${run.items.length > 1 ? " is-multi" : ""}`;
      mark.dataset.items = run.items.map((i) => i.id).join(" ");
      mark.title = run.items.map((i) => `${RISK_WORD[i.risk] || i.risk} risk — ${i.category}: ${i.description}`.slice(0, 200)).join("\n");
      mark.appendChild(node);
      return mark;
    };
    let frag;
    if (hasBlockMarks(s.marks)) {
      // Markdown: formatting drawn over the same characters (every character in order).
      frag = renderMarked(s.text, s.marks, runs, decorate);
      a.text.classList.add("is-marked");
    } else if (hasWordOrPdfMarks(s.marks)) {
      // A Word or PDF upload: its plain text as written, its web links drawn as links, its code blocks as code.
      frag = renderMarked(s.text, s.marks.filter((m) => Array.isArray(m) && (m[2] === "link" || m[2] === "pre")),
        runs, decorate, { plain: true });
      a.text.classList.remove("is-marked");
    } else {
      frag = document.createDocumentFragment();
      for (const run of runs) frag.appendChild(decorate(document.createTextNode(s.text.slice(run.start, run.end)), run));
      a.text.classList.remove("is-marked");
    }
    // A heading over sub-sections only (Word and PDF keep it as a section of its own): a heading
    // of the sections below it, not a section left empty.
    if (!s.text.trim() && !opensGroup) frag.appendChild(h("span", { class: "empty-text" }, "This section has no text."));
    a.el.classList.toggle("is-group", !s.text.trim() && opensGroup);
    setChildren(a.text, frag);
  }

  function paintActive() {
    for (const m of body.querySelectorAll("mark.is-active")) m.classList.remove("is-active");
    if (!activeItem) return;
    for (const m of body.querySelectorAll("mark[data-items]")) {
      if (m.dataset.items.split(" ").includes(activeItem)) m.classList.add("is-active");
    }
  }

  function update(model) {
    const { state, ui, decisionOf } = model;
    lastState = state;
    const hs = `${state.title}|${state.filename}|${state.kind}|${state.sections.length}|${state.version}`;
    if (hs !== headSig) {
      headSig = hs;
      const words = state.sections.reduce((n, s) => n + (s.text.match(/\S+/g) || []).length, 0);
      setChildren(head, 
        h("div", { class: "doc-file" }, icon("file"), h("span", null, state.filename || "Document"),
          state.version > 1 ? h("span", { class: "doc-version", title: "The version of the document shown" }, `v${state.version}`) : null,
          // The next version of the write-up, beside the file it replaces (the header has the same).
          h("button", { type: "button", class: "btn btn-xs btn-ghost doc-new-version", id: "doc-new-version",
            onclick: () => ctx.actions.chooseVersion(), title: "Upload the next version of this document" },
          icon("upload"), "New version…")),
        h("div", { class: "doc-stats" }, `${state.sections.length} sections · ${words.toLocaleString()} words`));
    }
    const bySection = new Map();
    for (const i of state.items) {
      if (!bySection.has(i.section_id)) bySection.set(i.section_id, []);
      bySection.get(i.section_id).push(i);
    }
    const nodes = [];
    for (const [index, s] of state.sections.entries()) {
      const next = state.sections[index + 1];
      const opensGroup = Boolean(next && (next.level || 1) > (s.level || 1));
      let a = articles.get(s.id);
      if (!a) { a = buildArticle(s); articles.set(s.id, a); }
      const items = bySection.get(s.id) || [];
      const rh = ui.refHighlight;
      // Only while the passage is still there (a new version of the document may move it).
      const ref = rh && rh.sectionId === s.id && s.text.slice(rh.start, rh.end) === rh.text ? [rh.start, rh.end] : null;
      const sig = (opensGroup ? "g|" : "") + s.text.length + "|" + (Array.isArray(s.marks) ? s.marks.length : 0) + "|" + (ref ? ref.join("-") : "") + "|" + items.map((i) => `${i.id}:${i.risk}:${decisionOf(i)}:${i.quote ? i.quote.length : 0}:${i.quote || ""}`).join(",");
      // A new version may change a text without changing its length: the text itself is compared too.
      if (sig !== a.sig || a.srcText !== s.text || a.srcMarks !== s.marks) {
        a.sig = sig;
        a.srcText = s.text;
        a.srcMarks = s.marks;
        renderText(a, s, items, decisionOf, ref, opensGroup);
        a.needsActive = true;
      }
      const isCurrent = ui.currentSectionId === s.id;
      const changes = sectionChanges(s);
      const hsig = `${s.title}|${s.status}|${s.progress}|${isCurrent}|${s.level}|${s.index}|${s.error || ""}|${s.message || ""}|${changes.join(" ")}`;
      if (hsig !== a.headSig) {
        a.headSig = hsig;
        const noteText = s.status === "failed" ? `The analysis failed: ${s.error || "unknown error"}. Try “Re-analyze”.`
          : s.status === "running" && s.message ? s.message : "";
        a.note.textContent = noteText;
        a.note.hidden = !noteText;
        a.note.classList.toggle("is-error", s.status === "failed");
        setChildren(a.title, h("span", { class: "doc-section-num" }, `${s.index + 1}`), s.title);
        a.el.classList.toggle("is-current", isCurrent);
        a.el.dataset.status = s.status;
        const busy = isSectionBusy(s);
        a.el.dataset.change = changes.join(" ");
        setChildren(a.meta, 
          // Since the previous version: the badges open the Changes view at this section.
          changes.length ? h("button", { type: "button", class: "doc-changes", onclick: () => ctx.actions.openChanges(s.id),
            "aria-label": `${changes.join(", ")} since the previous version: show the changes`, title: "Show what changed" },
          changeBadges(s)) : null,
          h("span", { class: `status-chip status-${s.status}` }, h("span", { class: `status-dot status-${s.status}`, "aria-hidden": "true" }), statusText(s)),
          busy
            ? h("button", { type: "button", class: "btn btn-xs btn-ghost", onclick: () => s.job_id && ctx.actions.cancelJob(s.job_id),
              "aria-label": `Cancel the analysis of “${s.title}”` }, icon("x"), "Cancel")
            : h("button", { type: "button", class: "btn btn-xs btn-ghost", onclick: () => ctx.actions.analyze([s.id]),
              "aria-label": `${s.status === "idle" ? "Analyze" : "Analyze again"} “${s.title}”` },
            icon("play"), s.status === "idle" ? "Analyze" : "Re-analyze"));
      }
      nodes.push(a.el);
    }
    for (const id of [...articles.keys()]) if (!state.sections.some((s) => s.id === id)) articles.delete(id);
    reconcile(body, nodes);
    if (ui.selectedId !== activeItem || [...articles.values()].some((a) => a.needsActive)) {
      activeItem = ui.selectedId;
      for (const a of articles.values()) a.needsActive = false;
      paintActive();
    }
  }

  function markFor(itemId) {
    for (const m of body.querySelectorAll("mark[data-items]")) {
      if (m.dataset.items.split(" ").includes(itemId)) return m;
    }
    return null;
  }

  /** Scroll the document to an item's quote (or its section when the quote is not in the text). */
  function scrollToItem(item, { smooth = true } = {}) {
    const mark = markFor(item.id);
    const behavior = smooth && !matchMedia("(prefers-reduced-motion: reduce)").matches ? "smooth" : "auto";
    if (mark) {
      holdDetection(behavior);
      mark.scrollIntoView({ block: "center", behavior });
      mark.classList.remove("flash");
      void mark.offsetWidth; // restart the animation
      mark.classList.add("flash");
      return true;
    }
    scrollToSection(item.section_id, { smooth });
    return false;
  }

  /** Scroll the document to the passage highlighted by `ui.refHighlight`; false when none is shown. */
  function scrollToRef({ smooth = true } = {}) {
    const marks = [...body.querySelectorAll("mark.ref-hl")];
    if (!marks.length) return false;
    const behavior = smooth && !matchMedia("(prefers-reduced-motion: reduce)").matches ? "smooth" : "auto";
    holdDetection(behavior);
    marks[0].scrollIntoView({ block: "center", behavior });
    for (const m of marks) {
      m.classList.remove("flash");
      void m.offsetWidth; // restart the animation
      m.classList.add("flash");
    }
    return true;
  }

  function scrollToSection(sectionId, { smooth = true, focus = false } = {}) {
    const a = articles.get(sectionId);
    if (!a) return;
    const behavior = smooth && !matchMedia("(prefers-reduced-motion: reduce)").matches ? "smooth" : "auto";
    holdDetection(behavior);
    a.el.scrollIntoView({ block: "start", behavior });
    if (focus) {
      a.title.tabIndex = -1;
      a.title.focus({ preventScroll: true });
    }
  }

  /** A scroll made by the page (not the reader) does not change the current section. */
  function holdDetection(behavior) {
    suppressDetect = true;
    clearTimeout(suppressTimer);
    suppressTimer = setTimeout(() => { suppressDetect = false; }, behavior === "smooth" ? 1500 : 120);
  }

  // ---- current section follows the scroll position
  let suppressDetect = false;
  let suppressTimer = null;
  let ticking = false;
  root.addEventListener("scroll", () => {
    if (ticking) return;
    ticking = true;
    requestAnimationFrame(() => {
      ticking = false;
      if (suppressDetect || !lastState) return;
      // The current section is the one under a reading line a third down the pane.
      const pr = root.getBoundingClientRect();
      const line = pr.top + Math.min(pr.height / 3, 240);
      for (const s of lastState.sections) {
        const a = articles.get(s.id);
        if (a && a.el.getBoundingClientRect().bottom > line) {
          if (ctx.ui.currentSectionId !== s.id) ctx.actions.setCurrentSection(s.id, { fromScroll: true });
          break;
        }
      }
      if (!addBtn.hidden && pendingSel) positionAdd(pendingSel.range);
    });
  }, { passive: true });
  root.addEventListener("scrollend", () => {
    if (!suppressDetect) return;
    clearTimeout(suppressTimer);
    suppressTimer = setTimeout(() => { suppressDetect = false; }, 60);
  });

  // ---- "Add comment" on a selection inside one section's text
  function hideAdd() {
    pendingSel = null;
    addBtn.hidden = true;
    addHint.hidden = true;
  }

  function positionAdd(range, el = addBtn) {
    const rects = range.getClientRects();
    const rect = rects.length ? rects[rects.length - 1] : range.getBoundingClientRect();
    const pr = root.getBoundingClientRect();
    const width = el.offsetWidth || 120;
    const left = Math.max(8, Math.min(rect.right - pr.left - width / 2, root.clientWidth - width - 12));
    el.style.top = `${rect.bottom - pr.top + root.scrollTop + 8}px`;
    el.style.left = `${left}px`;
  }

  function textBox(node) {
    const el = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
    return el ? el.closest(".section-text") : null;
  }

  function readSelection() {
    const sel = document.getSelection();
    if (!sel || sel.isCollapsed || !sel.rangeCount || !lastState) { hideAdd(); return; }
    const range = sel.getRangeAt(0);
    const a = textBox(range.startContainer);
    const b = textBox(range.endContainer);
    if (!a && !b) { hideAdd(); return; }
    if (a !== b || !a) {
      pendingSel = null;
      addBtn.hidden = true;
      addHint.hidden = false;
      positionAdd(range, addHint);
      return;
    }
    const section = lastState.sections.find((s) => s.id === a.dataset.sectionId);
    if (!section) { hideAdd(); return; }
    let start = textOffset(a, range.startContainer, range.startOffset);
    let end = textOffset(a, range.endContainer, range.endOffset);
    if (start === null || end === null) { hideAdd(); return; }
    while (start < end && /\s/.test(section.text[start])) start += 1;
    while (end > start && /\s/.test(section.text[end - 1])) end -= 1;
    const quote = section.text.slice(start, end);
    if (!quote) { hideAdd(); return; }
    pendingSel = { sectionId: section.id, quote, range: range.cloneRange() };
    addHint.hidden = true;
    addBtn.hidden = false;
    positionAdd(range);
  }

  let selTimer = null;
  document.addEventListener("selectionchange", () => {
    clearTimeout(selTimer);
    selTimer = setTimeout(readSelection, 150);
  });

  return {
    update, scrollToItem, scrollToSection, scrollToRef,
    hasQuote: (id) => [...articles.values()].some((a) => a.found.has(id)),
    currentSelection: () => pendingSel && { sectionId: pendingSel.sectionId, quote: pendingSel.quote },
  };
}
