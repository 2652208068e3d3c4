// The chat pane: history, answers that grow in place while they stream, the current
// section as context, stop for a running answer.

import { h, icon, reconcile, setChildren, addChildren } from "../dom.js";
import { renderMarkdown } from "../markdown.js";
import { mapCitations } from "../quotes.js";

const SUGGESTIONS = [
  "Summarize this write-up",
  "Is the root cause supported by the evidence?",
  "Which actions lack an owner or a due date?",
  "What is missing from the timeline?",
];

export function createChatView(root, ctx) {
  const contextBtn = h("button", { type: "button", class: "context-chip", id: "chat-context",
    onclick: () => ctx.actions.toggleChatContext() });
  const collapse = h("button", { type: "button", class: "icon-btn sm", id: "chat-collapse",
    onclick: () => ctx.actions.toggleChat() });
  const log = h("div", { class: "chat-log", id: "chat-log", role: "log", "aria-live": "polite", "aria-relevant": "additions text",
    "aria-label": "Chat messages", tabIndex: 0 });
  const input = h("textarea", { id: "chat-input", rows: 1, maxLength: 4000, placeholder: "Ask about the document…",
    title: "Enter sends the question; Shift+Enter starts a new line",
    "aria-label": "Ask a question about the document (Enter to send, Shift+Enter for a new line)" });
  const send = h("button", { type: "submit", class: "btn btn-primary btn-sm", id: "chat-send", "aria-label": "Send question" }, icon("send"), "Ask");
  const stop = h("button", { type: "button", class: "btn btn-sm", id: "chat-stop", hidden: true,
    onclick: () => ctx.actions.stopChat() }, icon("stop"), "Stop");
  const form = h("form", { class: "chat-form", id: "chat-form" }, input, h("div", { class: "chat-form-actions" }, stop, send));
  const body = h("div", { class: "chat-body", id: "chat-body" }, log, form);
  const resizer = h("div", { class: "chat-resizer", role: "separator", tabIndex: 0, "aria-orientation": "horizontal",
    "aria-label": "Resize the chat (arrow keys)", "aria-controls": "chat-pane", "aria-valuemin": "18", "aria-valuemax": "75" });
  installResizer(resizer);
  root.appendChild(resizer);
  addChildren(root, h("div", { class: "pane-head chat-head" }, h("h2", { class: "pane-title", id: "chat-title" }, icon("message"), "Chat"),
    contextBtn, h("span", { class: "spacer" }), collapse), body);

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    ctx.actions.sendChat(text).then((ok) => { if (ok) { input.value = ""; fit(); } });
  });
  // One line to start with; grows with the question (up to the stylesheet's max-height).
  const fit = () => {
    if (!input.value) { input.style.removeProperty("height"); return; }
    input.style.height = "auto";
    input.style.height = `${input.scrollHeight + (input.offsetHeight - input.clientHeight)}px`;
  };
  input.addEventListener("input", fit);
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    } else if (e.key === "Escape") {
      input.blur();
    }
  });

  const bubbles = new Map(); // message id -> {el, textEl, text, state}
  let lastSig = "";

  function nearBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 48;
  }

  /** The answer's quotes of the document: section title and quoted text, each showing its passage. */
  function renderCites(b, cites, ref) {
    b.citesEl.hidden = !cites.length;
    if (!cites.length) { setChildren(b.citesEl); return; }
    const labelId = `cites-${b.el.dataset.messageId}`;
    setChildren(b.citesEl,
      h("div", { class: "msg-cites-label", id: labelId }, "Quotes"),
      h("ul", { class: "cite-list", "aria-labelledby": labelId }, cites.map((c) => {
        const active = !!ref && ref.sectionId === c.section.id && ref.start === c.start && ref.end === c.end;
        return h("li", null, h("button", {
          type: "button", class: `cite${active ? " is-active" : ""}`, "aria-current": active ? "true" : null,
          title: `Show this passage of “${c.section.title}” in the document`,
          dataset: { sectionId: c.section.id, start: String(c.start), end: String(c.end) },
          onclick: () => ctx.actions.showPassage(c.section.id, c.start, c.end),
        }, h("span", { class: "cite-section" }, icon("target"), h("span", null, c.section.title)),
        h("q", { class: "cite-text" }, c.text)));
      })));
  }

  function bubble(m, titles, sections, ref) {
    let b = bubbles.get(m.message_id);
    if (!b) {
      const meta = h("div", { class: "msg-meta" });
      const textEl = h("div", { class: m.role === "user" ? "msg-text" : "msg-text md" });
      const citesEl = h("div", { class: "msg-cites", hidden: true });
      const el = h("div", { class: `msg msg-${m.role}`, dataset: { messageId: m.message_id } }, meta, textEl,
        m.role === "user" ? null : citesEl);
      b = { el, meta, textEl, citesEl, citeSig: "", text: null, state: null, renders: 0 };
      bubbles.set(m.message_id, b);
      if (m.role === "user") {
        const about = m.section_id && titles.get(m.section_id);
        addChildren(meta, h("span", { class: "msg-author" }, m.author || "Reviewer"),
          about ? h("span", { class: "msg-about" }, ` · about “${about}”`) : null);
      } else {
        addChildren(meta, h("span", { class: "msg-author" }, "Assistant"));
      }
    }
    const state = m.role === "user" ? "done" : m.streaming ? "streaming" : m.status === "failed" ? "failed" : m.status === "cancelled" ? "cancelled" : "done";
    if (b.text !== m.text || b.state !== state) {
      b.text = m.text;
      b.state = state;
      b.renders += 1;
      b.el.dataset.state = state;
      b.el.dataset.renders = String(b.renders);
      b.el.setAttribute("aria-busy", state === "streaming" ? "true" : "false");
      if (m.role === "user") {
        b.textEl.textContent = m.text; // pre-wrap keeps the line breaks
      } else {
        // The answer grows in place: same element, new content.
        setChildren(b.textEl, renderMarkdown(m.text));
        if (state === "streaming") b.textEl.appendChild(h("span", { class: "caret", "aria-hidden": "true" }));
        if (state === "failed" || state === "cancelled") {
          b.textEl.appendChild(h("p", { class: "msg-error" }, state === "failed" ? "The answer failed. Ask again?" : "Stopped."));
        }
        if (!m.text && state === "streaming") b.textEl.prepend(h("span", { class: "thinking" }, "Thinking…"));
      }
    }
    if (m.role !== "user") {
      // Only citations that point at a passage of a section of this review are listed.
      const cites = mapCitations(m.citations, sections);
      const refKey = ref ? `${ref.sectionId}:${ref.start}:${ref.end}` : "";
      const citeSig = cites.map((c) => `${c.section.id}:${c.start}:${c.end}:${c.section.title}`).join("|") + (cites.length ? `#${refKey}` : "");
      if (citeSig !== b.citeSig) {
        b.citeSig = citeSig;
        renderCites(b, cites, ref);
      }
    }
    return b.el;
  }

  function update(model) {
    const { state, ui } = model;
    const cur = state.sections.find((s) => s.id === ui.currentSectionId);
    const useContext = ui.chatContext && cur;
    setChildren(contextBtn, icon("target"), h("span", { class: "context-text" }, useContext ? cur.title : "Whole document"));
    contextBtn.setAttribute("aria-pressed", String(!!useContext));
    contextBtn.setAttribute("aria-label", useContext ? `Context: section “${cur.title}”. Click to ask about the whole document.`
      : "Context: the whole document. Click to ask about the current section.");
    contextBtn.title = useContext ? "Questions are about this section (click for the whole document)" : "Questions are about the whole document (click for the current section)";
    setChildren(collapse, icon(ui.chatCollapsed ? "chevronUp" : "chevronDown"));
    collapse.setAttribute("aria-label", ui.chatCollapsed ? "Show the chat" : "Hide the chat");
    collapse.setAttribute("aria-expanded", String(!ui.chatCollapsed));
    collapse.setAttribute("aria-controls", "chat-body");
    body.hidden = ui.chatCollapsed;
    root.classList.toggle("is-collapsed", ui.chatCollapsed);

    const waiting = model.myActiveChat;
    stop.hidden = !waiting;

    const chat = model.chat;
    const ref = ui.refHighlight;
    const cited = chat.some((m) => m.citations && m.citations.length);
    const sig = chat.map((m) => `${m.message_id}:${m.text.length}:${m.streaming}:${m.status || ""}:${m.citations ? m.citations.length : 0}`).join("|")
      + (cited ? `#${ref ? `${ref.sectionId}:${ref.start}:${ref.end}` : ""}#${state.sections.map((s) => `${s.id}:${s.title}:${s.text.length}`).join(",")}` : "");
    if (sig === lastSig && log.childElementCount) return;
    lastSig = sig;
    const stick = nearBottom();
    const titles = new Map(state.sections.map((s) => [s.id, s.title]));
    const nodes = chat.map((m) => bubble(m, titles, state.sections, ref));
    if (!nodes.length) {
      nodes.push(emptyState());
    }
    const keep = new Set(chat.map((m) => m.message_id));
    for (const id of [...bubbles.keys()]) if (!keep.has(id)) bubbles.delete(id);
    reconcile(log, nodes);
    if (stick && chat.length) log.scrollTop = log.scrollHeight;
  }

  let emptyEl = null;
  function emptyState() {
    if (!emptyEl) {
      emptyEl = h("div", { class: "chat-empty" },
        h("p", null, "Ask about the write-up — the current section is the context. For example:"),
        h("div", { class: "chat-suggestions" }, SUGGESTIONS.map((s) => h("button", { type: "button", class: "btn btn-xs",
          onclick: () => { input.value = s; fit(); input.focus(); } }, s))));
    }
    return emptyEl;
  }

  return {
    update,
    focus: () => { if (ctx.ui.chatCollapsed) ctx.actions.toggleChat(); input.focus(); },
  };
}

const CHAT_KEY = "redline.chatHeight";

/** The separator between findings and chat: drag, or arrow keys, sets the chat's share of the height. */
function installResizer(handle) {
  const workspace = document.getElementById("workspace");
  const apply = (f, save) => {
    const v = Math.max(0.18, Math.min(0.75, f));
    workspace.style.setProperty("--chat-h", `${(v * 100).toFixed(1)}%`);
    handle.setAttribute("aria-valuenow", String(Math.round(v * 100)));
    if (save) { try { localStorage.setItem(CHAT_KEY, String(v)); } catch { /* ignore */ } }
    return v;
  };
  let current = 0.3; // as the stylesheet's default (--chat-h)
  try { const saved = Number(localStorage.getItem(CHAT_KEY)); if (saved) current = saved; } catch { /* ignore */ }
  current = apply(current, false);
  handle.addEventListener("pointerdown", (e) => {
    e.preventDefault();
    handle.setPointerCapture(e.pointerId);
    handle.classList.add("is-dragging");
    const move = (ev) => {
      const r = workspace.getBoundingClientRect();
      current = apply((r.bottom - ev.clientY) / r.height, false);
    };
    const up = () => {
      handle.classList.remove("is-dragging");
      handle.removeEventListener("pointermove", move);
      handle.removeEventListener("pointerup", up);
      handle.removeEventListener("pointercancel", up);
      apply(current, true);
    };
    handle.addEventListener("pointermove", move);
    handle.addEventListener("pointerup", up);
    handle.addEventListener("pointercancel", up);
  });
  handle.addEventListener("keydown", (e) => {
    if (e.key === "ArrowUp") current = apply(current + 0.04, true);
    else if (e.key === "ArrowDown") current = apply(current - 0.04, true);
    else return;
    e.preventDefault();
  });
}
