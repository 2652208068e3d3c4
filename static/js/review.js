// The review page: wires the store, the websocket, the views and the reviewer's actions.
// Tests reach everything through window.redline (see the bottom of this file).

import { Api, ApiError, queues, reviewIdFromPath, saveBlob, shareUrl, takeNotice, takeToken } from "./api.js";
import { h, icon, setChildren } from "./dom.js";
import { defaultFilter, facetCounts, filterFromJSON, filterItems, filterToJSON, sortItems } from "./filters.js";
import { downloadChatMarkdown, downloadItemsCSV, downloadItemsJSON, fetchReviewedDocx } from "./exporters.js";
import { forgetReview, recentToken, rememberReview } from "./recent.js";
import { createLayout } from "./layout.js";
import { installShortcuts } from "./shortcuts.js";
import { Connection, FATAL_CLOSES } from "./socket.js";
import { locate } from "./quotes.js";
import { changedSectionIds, resolutionOf, sectionById, unfinishedJobs } from "./state.js";
import { ReviewStore } from "./store.js";
import { createBanner, createToasts } from "./views/banner.js";
import { createChatView } from "./views/chat.js";
import { createCommentDialog } from "./views/comment.js";
import { confirmDialog } from "./views/dialogs.js";
import { createDocumentView } from "./views/document.js";
import { createFindingsView } from "./views/findings.js";
import { createHeader } from "./views/header.js";
import { createHelpDialog } from "./views/help.js";
import { createNameDialog } from "./views/name.js";
import { createSectionsView } from "./views/sections.js";
import { createStatsDialog } from "./views/stats.js";
import { VERSION_TYPES, createChangesDialog, createRoundBar, createVersionControl } from "./views/versions.js";

const $ = (id) => document.getElementById(id);
const QUEUE_POLL_MS = 4000;
const DECISION_WORD = { accepted: "Accepted", rejected: "Rejected", pending: "Reverted" };

// ------------------------------------------------------------------ setup ---
const reviewId = reviewIdFromPath();
const token = reviewId ? takeToken(reviewId, { recentToken: recentToken(reviewId) }) : null;

function loadName() {
  try {
    const saved = localStorage.getItem("redline.name");
    if (saved) return saved;
    const name = `Reviewer ${Math.floor(100 + Math.random() * 900)}`;
    localStorage.setItem("redline.name", name);
    return name;
  } catch {
    return "Reviewer";
  }
}

function loadFilter() {
  try { return filterFromJSON(JSON.parse(sessionStorage.getItem(`redline.filter.${reviewId}`) || "null")); } catch { return defaultFilter(); }
}

function loadChoice(key, choices) {
  try {
    const v = localStorage.getItem(key);
    return choices.includes(v) ? v : choices[0];
  } catch { return choices[0]; }
}

const ui = {
  name: loadName(),
  selectedId: null,
  currentSectionId: null,
  filter: loadFilter(),
  checked: new Set(),
  chatContext: true,
  chatCollapsed: (() => { try { return localStorage.getItem("redline.chatCollapsed") === "1"; } catch { return false; } })(),
  exportInclude: loadChoice("redline.export.include", ["accepted", "accepted_and_pending", "all"]),
  exportChanges: loadChoice("redline.export.changes", ["both", "tracked", "comments"]),
  exportAudit: loadChoice("redline.export.audit", ["0", "1"]) === "1", // append the review record
  presence: [],
  myChats: new Map(), // question message id -> job id (questions asked from this tab)
  refHighlight: null, // {sectionId, start, end, text}: the passage shown from a chat quote or "Compare with"
};
const optimistic = new Map(); // item id -> decision clicked here, until the server's event confirms it
const optimisticTimers = new Map();

const store = new ReviewStore();
const api = new Api(reviewId, token);
const banner = createBanner($("banner"));
const toasts = createToasts($("toasts"));

function fatal(title, message) {
  if (conn && !conn.fatal) conn.stop();
  const box = $("fatal");
  setChildren(box, h("div", { class: "fatal-card" }, icon("alert", 28), h("h2", null, title), h("p", null, message),
    h("a", { class: "btn btn-primary", href: "/" }, "Go to the upload page")));
  box.hidden = false;
  $("workspace").setAttribute("aria-busy", "false");
  $("workspace").classList.add("is-dead");
}

// ---------------------------------------------------------------- actions ---
const actions = {
  /** `reveal`: on narrow screens, the pane to show ("document" for a quote, "findings" for a mark). */
  selectItem(id, { scrollDoc = true, scrollCard = true, focusCard = false, reveal = null } = {}) {
    const item = store.state && store.state.items.find((i) => i.id === id);
    if (!item) return;
    ui.selectedId = id;
    ui.currentSectionId = item.section_id;
    ui.refHighlight = null;
    if (reveal) layout.reveal(reveal);
    renderNow();
    if (scrollDoc) views.document.scrollToItem(item);
    if (scrollCard || focusCard) views.findings.scrollToCard(id, { focus: focusCard });
  },

  /** `extra`: {replacement?, reason?} sent with the decision. */
  async decide(itemId, decision, extra = {}) {
    const item = store.state.items.find((i) => i.id === itemId);
    if (!item) return;
    setOptimistic(itemId, decision);
    try {
      if (conn.isOpen) await conn.request("decide", { item_id: itemId, decision, ...extra });
      else await api.decide(itemId, decision, ui.name, extra);
    } catch (e) {
      clearOptimistic(itemId);
      toasts.error(`The decision was not saved: ${e.message}`);
    }
  },

  async bulk(decision) {
    const targets = model().visible.filter((i) => decisionOf(i) !== decision);
    if (!targets.length) return;
    const before = targets.map((i) => [i.id, decisionOf(i)]);
    for (const i of targets) setOptimistic(i.id, decision);
    const failed = await decideMany(targets.map((i) => [i.id, decision]));
    const ok = targets.length - failed.length;
    if (failed.length) toasts.error(`${failed.length} of ${targets.length} decisions were not saved: ${failed[0].message}`);
    if (ok) {
      toasts.info(`${DECISION_WORD[decision]} ${ok} finding${ok === 1 ? "" : "s"}.`, {
        action: { label: "Undo", run: () => {
          for (const [id, d] of before) setOptimistic(id, d);
          decideMany(before).then((f) => f.length && toasts.error(`${f.length} decisions could not be undone.`));
        } },
      });
    }
  },

  async analyze(sectionIds) {
    try {
      const body = sectionIds ? { sections: sectionIds } : {};
      const out = conn.isOpen ? await conn.request("analyze", body) : await api.analyze(sectionIds);
      if (sectionIds && sectionIds.length > 1) ui.checked.clear();
      const skipped = (out.skipped || []).length;
      if (skipped && !(out.jobs || []).length) toasts.info("Already being analyzed.");
      else if (skipped) toasts.info(`${skipped} section${skipped === 1 ? " was" : "s were"} already being analyzed.`);
      schedule();
    } catch (e) {
      toasts.error(`Could not start the analysis: ${e.message}`);
    }
  },

  async cancelJob(jobId) {
    try {
      if (conn.isOpen) await conn.request("cancel", { job_id: jobId });
      else await api.cancelJob(jobId);
    } catch (e) {
      toasts.error(`Could not cancel: ${e.message}`);
    }
  },

  async cancelAll() {
    try {
      if (conn.isOpen) await conn.request("cancel", { all: true });
      else await Promise.all(unfinishedJobs(store.state).map((j) => api.cancelJob(j.job_id)));
    } catch (e) {
      toasts.error(`Could not cancel: ${e.message}`);
    }
  },

  checkSection(id, on) { if (on) ui.checked.add(id); else ui.checked.delete(id); schedule(); },
  checkAll(on) {
    ui.checked = on ? new Set(store.state.sections.map((s) => s.id)) : new Set();
    schedule();
  },

  /** Highlight [start, end) of a section's text (one passage at a time) and scroll to it. */
  showPassage(sectionId, start, end) {
    const section = store.state && sectionById(store.state, sectionId);
    if (!section) return false;
    const ok = Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end > start && end <= section.text.length;
    ui.refHighlight = ok ? { sectionId, start, end, text: section.text.slice(start, end) } : null;
    ui.currentSectionId = sectionId;
    layout.reveal("document");
    renderNow();
    if (!ok || !views.document.scrollToRef()) views.document.scrollToSection(sectionId);
    return ok;
  },

  /** A finding's "Compare with": the related section, its related quote highlighted when found there. */
  compareWith(item) {
    const section = store.state && sectionById(store.state, item.related_section_id);
    if (!section) return;
    const r = item.related_quote ? locate(section.text, item.related_quote) : null;
    if (r) {
      actions.showPassage(section.id, r[0], r[1]);
    } else {
      ui.refHighlight = null;
      actions.goToSection(section.id);
    }
  },

  goToSection(id, { focus = false } = {}) {
    ui.currentSectionId = id;
    layout.reveal("document");
    renderNow();
    views.document.scrollToSection(id, { focus });
  },

  setCurrentSection(id) {
    if (ui.currentSectionId === id) return;
    ui.currentSectionId = id;
    schedule();
  },

  setFilter(fn) {
    fn(ui.filter);
    try { sessionStorage.setItem(`redline.filter.${reviewId}`, JSON.stringify(filterToJSON(ui.filter))); } catch { /* ignore */ }
    schedule();
  },
  clearFilter() { actions.setFilter((f) => Object.assign(f, defaultFilter(), { sort: f.sort })); },

  async sendChat(text) {
    const sectionId = ui.chatContext ? ui.currentSectionId : null;
    try {
      const out = conn.isOpen
        ? await conn.request("chat", { message: text, ...(sectionId ? { section_id: sectionId } : {}) })
        : await api.chat(text, sectionId);
      if (out.message_id && out.job_id) ui.myChats.set(out.message_id, out.job_id);
      schedule();
      return true;
    } catch (e) {
      toasts.error(`The question was not sent: ${e.message}`);
      return false;
    }
  },
  stopChat() {
    for (const jobId of ui.myChats.values()) {
      const job = store.state.jobs[jobId];
      if (job && (job.status === "queued" || job.status === "active")) actions.cancelJob(jobId);
    }
  },
  toggleChatContext() { ui.chatContext = !ui.chatContext; schedule(); },
  toggleChat() {
    ui.chatCollapsed = !ui.chatCollapsed;
    try { localStorage.setItem("redline.chatCollapsed", ui.chatCollapsed ? "1" : "0"); } catch { /* ignore */ }
    document.body.classList.toggle("chat-collapsed", ui.chatCollapsed);
    schedule();
  },

  openComment(target) { dialogs.comment.open(target); },
  editItem(item) { dialogs.comment.open({ item }); },
  async createItem(fields) {
    const out = await api.addItem({ ...fields, author: ui.name });
    toasts.info("Comment added.");
    if (out && out.item && await whenItem(out.item.id)) {
      actions.selectItem(out.item.id, { scrollDoc: false, scrollCard: true });
    }
  },
  async saveItem(item, fields) {
    try {
      await api.updateItem(item.id, { ...fields, author: ui.name });
    } catch (e) {
      if (e.status === 405 || (e.status === 404 && e.code === "not_found" && /route|URL/i.test(e.message))) {
        throw new ApiError("Editing comments is not available on this server yet.");
      }
      throw e;
    }
    toasts.info("Comment updated.");
  },
  async deleteItem(item) {
    const ok = await confirmDialog("Delete this comment? Other viewers will see it disappear too.", { confirmLabel: "Delete", danger: true });
    if (!ok) return;
    try {
      await api.deleteItem(item.id);
      if (ui.selectedId === item.id) ui.selectedId = null;
      toasts.info("Comment deleted.");
    } catch (e) {
      toasts.error(e.status === 405 ? "Deleting comments is not available on this server yet." : `Could not delete: ${e.message}`);
    }
  },

  /** The .docx export's choice: which findings (`include`) and how rewrites are written (`changes`). */
  setExport(key, value) {
    if (key === "include") ui.exportInclude = value;
    else if (key === "changes") ui.exportChanges = value;
    else if (key === "audit") ui.exportAudit = value === "1";
    else return;
    try { localStorage.setItem(`redline.export.${key}`, value); } catch { /* private mode */ }
    schedule();
  },
  async downloadDocx() {
    const btn = $("download-docx");
    btn.disabled = true;
    btn.setAttribute("aria-busy", "true");
    try {
      const { blob, filename } = await fetchReviewedDocx(api, { include: ui.exportInclude, changes: ui.exportChanges,
        audit: ui.exportAudit, by: ui.name });
      saveBlob(blob, filename);
    } catch (e) {
      toasts.error(`The .docx could not be made: ${e.message}`);
    } finally {
      btn.disabled = false;
      btn.removeAttribute("aria-busy");
    }
  },
  exportItems(format) {
    if (format === "csv") downloadItemsCSV(store.state);
    else downloadItemsJSON(store.state);
  },
  exportChat() { downloadChatMarkdown(store.state); },
  loadAudit() { return api.audit(); },
  async downloadAudit() {
    try {
      const { blob, filename } = await api.downloadAuditCSV();
      saveBlob(blob, filename);
    } catch (e) {
      toasts.error(`The audit trail could not be downloaded: ${e.message}`);
    }
  },

  async copyLink() {
    const url = shareUrl(reviewId, token);
    try {
      await navigator.clipboard.writeText(url);
      toasts.info("Link copied. Anyone with this link can open and edit the review.");
    } catch {
      toasts.info(`Copy this link (anyone with it can open the review): ${url}`, { timeout: 30000 });
    }
  },
  openStats() { dialogs.stats.open(); dialogs.stats.update(model()); },

  /** The next version of the write-up from the header's file input: checked, confirmed, uploaded
   * with the reviewer's name. A refused upload changes nothing; its error stays until dismissed. */
  async uploadVersion(file) {
    if (ui.versionUpload || !store.state) return;
    const ext = (/\.[^./\\]+$/.exec(file.name) || [""])[0].toLowerCase();
    if (!VERSION_TYPES.includes(ext)) {
      toasts.error(`“${file.name}” is not a .docx, .pdf, .md or .txt file. The review is unchanged.`, { timeout: 0 });
      return;
    }
    const next = store.state.version + 1;
    const running = unfinishedJobs(store.state).length;
    const ok = await confirmDialog(`Upload “${file.name}” as version ${next} of this review? Its sections replace the current `
      + `ones, and every finding is checked against it: resolved, still open, or outdated. Decisions are kept.`
      + (running ? ` The ${running} unfinished job${running === 1 ? "" : "s"} will be cancelled.` : ""),
    { confirmLabel: `Upload version ${next}` });
    if (!ok) return;
    ui.versionUpload = true;
    views.versionControl.setBusy(true, 0);
    try {
      const out = await api.addVersion(file, ui.name, { onProgress: (f) => views.versionControl.setBusy(true, f) });
      toasts.info(`Version ${out.version} is in: ${out.resolved} resolved · ${out.open} still open · ${out.outdated} outdated.`);
      if (await whenState((st) => st.version >= out.version)) actions.openChanges();
    } catch (e) {
      const msg = /[.!?]$/.test(e.message) ? e.message : `${e.message}.`;
      const retry = e.status === 409 || e.status === 0 || e.status >= 500;
      toasts.error(`Version ${next} was not uploaded: ${msg} The review is unchanged.`, {
        timeout: 0, action: retry ? { label: "Try again", run: () => actions.uploadVersion(file) } : null });
    } finally {
      ui.versionUpload = false;
      views.versionControl.setBusy(false);
    }
  },
  /** The file chooser of "New version…". */
  chooseVersion() { views.versionControl.input.click(); },
  /** The Changes view (what the latest version changed), at section `sectionId` if given. */
  openChanges(sectionId = null) { dialogs.changes.open(sectionId); dialogs.changes.update(model()); },
  /** Analyze the sections the latest version changed or added (one "analyze" op). */
  analyzeChanged() {
    const ids = changedSectionIds(store.state);
    if (!ids.length) { toasts.info("No section changed in this version."); return; }
    actions.analyze(ids);
  },
  openHelp() { dialogs.help.open(); },
  openName() { dialogs.name.open(); },
  setName(name) {
    if (name === ui.name) return;
    ui.name = name;
    try { localStorage.setItem("redline.name", name); } catch { /* ignore */ }
    schedule();
    conn.reconnect(); // presence and decisions carry the new name
  },
};

function setOptimistic(id, decision) {
  optimistic.set(id, decision);
  clearTimeout(optimisticTimers.get(id));
  // If no event confirms it (lost reply), the server's state shows again after a while.
  optimisticTimers.set(id, setTimeout(() => clearOptimistic(id), 8000));
  schedule();
}

function clearOptimistic(id) {
  optimistic.delete(id);
  clearTimeout(optimisticTimers.get(id));
  optimisticTimers.delete(id);
  schedule();
}

/** Resolves true once `test(state)` holds (its event has arrived), false after `ms`. */
function whenState(test, ms = 10000) {
  return new Promise((resolve) => {
    if (store.state && test(store.state)) { resolve(true); return; }
    const timer = setTimeout(() => { off(); resolve(false); }, ms);
    const off = store.subscribe(() => { if (store.state && test(store.state)) { clearTimeout(timer); off(); resolve(true); } });
  });
}

/** Resolves true once the store holds item `id` (its event has arrived), false after `ms`. */
function whenItem(id, ms = 5000) {
  return whenState((st) => st.items.some((i) => i.id === id), ms);
}

/** Many decisions over HTTP, a few at a time; returns the errors. */
async function decideMany(pairs, width = 6) {
  const errors = [];
  let next = 0;
  async function worker() {
    while (next < pairs.length) {
      const [id, decision] = pairs[next++];
      try {
        await api.decide(id, decision, ui.name);
      } catch (e) {
        clearOptimistic(id);
        errors.push(e);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(width, pairs.length) }, worker));
  return errors;
}

function decisionOf(item) {
  return optimistic.has(item.id) ? optimistic.get(item.id) : item.decision;
}

// ------------------------------------------------------------------ views ---
const ctx = { store, ui, actions };
const views = {
  header: createHeader(ctx),
  sections: createSectionsView($("sections-pane"), ctx),
  document: createDocumentView($("document-pane"), ctx),
  findings: createFindingsView($("findings-pane"), ctx),
  chat: createChatView($("chat-pane"), ctx),
  versionControl: createVersionControl(ctx),
  round: createRoundBar($("round-bar"), ctx),
};
$("topbar-actions").prepend(views.versionControl.el);
const dialogs = {
  stats: createStatsDialog($("stats-dialog"), ctx),
  help: createHelpDialog($("help-dialog")),
  comment: createCommentDialog($("comment-dialog"), ctx),
  name: createNameDialog($("name-dialog"), ctx),
  changes: createChangesDialog($("changes-dialog"), ctx),
};
document.body.classList.toggle("chat-collapsed", ui.chatCollapsed);
const layout = createLayout();

/** Chat messages as shown: the state's, plus this tab's waiting or failed answers. */
function chatView(state) {
  const chat = state.chat.slice();
  let active = false;
  for (const [mid, jid] of ui.myChats) {
    const job = state.jobs[jid];
    if (!job) continue;
    const aid = `${mid}.a`;
    const idx = chat.findIndex((m) => m.message_id === aid);
    const unfinished = job.status === "queued" || job.status === "active";
    if (unfinished) active = true;
    if (idx < 0 && (unfinished || job.status === "failed" || job.status === "cancelled")) {
      const msg = { message_id: aid, role: "assistant", text: "", streaming: unfinished, status: unfinished ? null : job.status };
      const q = chat.findIndex((m) => m.message_id === mid);
      chat.splice(q >= 0 ? q + 1 : chat.length, 0, msg);
    } else if (idx >= 0 && chat[idx].streaming && (job.status === "failed" || job.status === "cancelled")) {
      chat[idx] = { ...chat[idx], streaming: false, status: job.status };
    }
  }
  return { chat, active };
}

function model() {
  const state = store.state;
  const sectionOrder = new Map(state.sections.map((s) => [s.id, s.index]));
  const opts = { decisionOf, currentSectionId: ui.currentSectionId, resolutionOf: (i) => resolutionOf(state, i) };
  const visible = sortItems(filterItems(state.items, ui.filter, opts), ui.filter.sort, sectionOrder);
  const counts = new Map();
  for (const i of state.items) {
    const c = counts.get(i.section_id) || { total: 0, high: 0, medium: 0, low: 0 };
    c.total += 1;
    if (i.risk in c) c[i.risk] += 1;
    counts.set(i.section_id, c);
  }
  const { chat, active } = chatView(state);
  return { state, ui, visible, facets: facetCounts(state.items, ui.filter, opts), decisionOf, optimistic, counts,
    chat, myActiveChat: active, hasQuote: (id) => views.document.hasQuote(id) };
}

let frame = 0;
let frameIsTimer = false; // a hidden tab renders on a timer: its id must go to clearTimeout, never the other's
let renders = 0;
function schedule() {
  if (frame || !store.state) return;
  frameIsTimer = document.hidden;
  frame = frameIsTimer ? setTimeout(renderNow, 120) : requestAnimationFrame(renderNow);
}

function renderNow() {
  // Cancel only what was scheduled: animation-frame and timer ids are separate counters, and
  // clearTimeout(frameId) cancelled whichever timer had that number (the queue chip's poll,
  // a toast's timeout, a reconnect's backoff).
  if (frame) { if (frameIsTimer) clearTimeout(frame); else cancelAnimationFrame(frame); frame = 0; }
  const state = store.state;
  if (!state) return;
  if (!ui.currentSectionId || !state.sections.some((s) => s.id === ui.currentSectionId)) {
    ui.currentSectionId = state.sections.length ? state.sections[0].id : null;
  }
  if (ui.selectedId && !state.items.some((i) => i.id === ui.selectedId)) ui.selectedId = null;
  const m = model();
  views.header.update(m);
  views.sections.update(m);
  views.document.update(m);
  views.findings.update(m);
  views.chat.update(m);
  views.round.update(m);
  dialogs.changes.update(m);
  layout.setCounts({ findings: state.items.length });
  if (dialogs.stats.isOpen) dialogs.stats.update(m);
  renders += 1;
  $("workspace").setAttribute("aria-busy", "false");
  document.body.dataset.ready = "true";
}

let queueSoon = null;
let queueSettle = null;
store.subscribe((state, change) => {
  if (change.type === "event") {
    const ev = change.event;
    if (ev.kind.startsWith("job.") && ev.kind !== "job.progress") {
      // The queue chip follows jobs starting and ending without waiting for the next poll: at
      // most one poll per 700 ms during a burst, and one after the burst's last event, when
      // SAQ's own counters have settled (they move a moment after our events).
      if (!queueSoon) queueSoon = setTimeout(() => { queueSoon = null; pollQueues(); }, 700);
      clearTimeout(queueSettle);
      queueSettle = setTimeout(pollQueues, 1500);
    }
    if (ev.kind === "item.decided" && optimistic.get(ev.data.item_id) === ev.data.decision) clearOptimistic(ev.data.item_id);
    if (ev.kind === "review.version" && !ui.versionUpload && !catchUp.active) {
      const by = ev.data && ev.data.by;
      toasts.info(`${by || "Someone"} uploaded version ${state.version} of the document.`, {
        timeout: 12000, action: { label: "Show changes", run: () => actions.openChanges() } });
    }
    if (catchUp.active) catchUp.count += 1;
  }
  schedule();
});

// ----------------------------------------------------------- connection ---
const catchUp = { active: false, count: 0, timer: null };
let welcomes = 0;

function finishCatchUp() {
  clearTimeout(catchUp.timer);
  catchUp.timer = setTimeout(() => {
    if (!catchUp.active) return;
    catchUp.active = false;
    const n = catchUp.count;
    banner.show("conn", n ? `Reconnected — ${n} missed update${n === 1 ? "" : "s"} applied.` : "Reconnected — nothing was missed.",
      { tone: "ok", timeout: 6000 });
  }, 400);
}

const wsUrl = () => {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}/ws/reviews/${encodeURIComponent(reviewId)}?token=${encodeURIComponent(token)}`;
};

const conn = reviewId && token ? new Connection(wsUrl, {
  lastEventId: () => store.lastEventId,
  name: () => ui.name,
  onWelcome(msg) {
    welcomes += 1;
    const first = welcomes === 1 && !store.state;
    if (msg.review) {
      store.reset(msg.review, first ? "load" : "resync");
      if (first) {
        rememberReview({ id: reviewId, title: msg.review.title, token });
      } else {
        catchUp.active = false;
        banner.show("conn", "Reconnected — the review was reloaded from the server.", { tone: "ok", timeout: 6000 });
      }
    } else if (msg.recovered) {
      catchUp.active = true;
      catchUp.count = 0;
      banner.show("conn", "Reconnected — catching up…", { tone: "info" });
    }
    if (msg.service === "degraded") {
      banner.show("service", "Live updates are interrupted on the server; they resume by themselves.", { tone: "warn" });
    } else {
      banner.hide("service");
    }
  },
  onEvent(frame) {
    store.apply(frame);
    if (catchUp.active) finishCatchUp();
  },
  onPresence(viewers) {
    ui.presence = viewers;
    views.header.setPresence(viewers, ui.name);
  },
  onStatus(msg) {
    if (msg.state === "degraded") banner.show("service", msg.message || "Live updates are interrupted; reconnecting…", { tone: "warn" });
    else {
      banner.hide("service");
      if (msg.message && banner.has("service")) banner.show("service", msg.message, { tone: "ok", timeout: 4000 });
    }
  },
  async checkAccess() {
    try {
      await api.snapshot();
      return null;
    } catch (e) {
      if (e.status === 401) return { code: 4401, message: FATAL_CLOSES[4401] };
      if (e.status === 404) return { code: 4404, message: FATAL_CLOSES[4404] };
      return null; // the server is unreachable or busy: keep retrying
    }
  },
  onError(err) {
    if (err.code === "rate_limited") toasts.error(err.message || "Too many requests; slow down.");
  },
  onState(info) {
    views.header.setConnection(info, () => conn.retryNow());
    if (info.fatal) {
      if (info.fatal.code === 4401) {
        try { sessionStorage.removeItem(`redline.token.${reviewId}`); } catch { /* ignore */ }
        forgetReview(reviewId);
        fatal("This link's token is not valid", "The link you opened does not give access to this review. Ask for a fresh link from the person who shared it.");
      } else {
        fatal("Review not found", info.fatal.message);
      }
      return;
    }
    if (info.state === "open") {
      if (catchUp.active) finishCatchUp();
      return;
    }
    if (info.state === "waiting" || info.state === "connecting") {
      const text = info.everWelcomed ? "Connection lost — reconnecting. Your work is safe; missed updates will be applied."
        : "Connecting to the server…";
      if (info.state === "waiting" || info.everWelcomed) {
        banner.show("conn", text, { tone: "warn", action: info.state === "waiting" ? { label: "Retry now", run: () => conn.retryNow() } : null });
      }
    }
  },
}) : null;

// --------------------------------------------------------------- queues ---
let queueTimer = null;
let queueBusy = false;
async function pollQueues() {
  if (queueBusy) return;
  queueBusy = true;
  clearTimeout(queueTimer);
  try {
    if (!document.hidden) views.header.setQueues(await queues());
  } catch (e) {
    views.header.setQueues(null, e);
  } finally {
    queueBusy = false;
    clearTimeout(queueTimer);
    queueTimer = setTimeout(pollQueues, QUEUE_POLL_MS);
  }
}

// ------------------------------------------------------------ shortcuts ---
function stepItem(delta) {
  const list = model().visible;
  if (!list.length) return;
  const at = list.findIndex((i) => i.id === ui.selectedId);
  const next = at < 0 ? (delta > 0 ? 0 : list.length - 1) : Math.max(0, Math.min(list.length - 1, at + delta));
  actions.selectItem(list[next].id, { scrollDoc: true, scrollCard: true, focusCard: true });
}

function stepSection(delta) {
  const secs = store.state.sections;
  if (!secs.length) return;
  const at = secs.findIndex((s) => s.id === ui.currentSectionId);
  const next = Math.max(0, Math.min(secs.length - 1, (at < 0 ? 0 : at) + delta));
  actions.goToSection(secs[next].id, { focus: true });
}

function onSelected(fn) {
  const item = ui.selectedId && store.state.items.find((i) => i.id === ui.selectedId);
  if (item) fn(item);
  else toasts.info("Select a finding first (j / k).", { timeout: 2500 });
}

// ------------------------------------------------------------------ start ---
if (!reviewId) {
  fatal("No review here", "This address does not name a review.");
} else if (!token) {
  fatal("This link has no token", "Open the review with the full link you were given (it ends with #token=…), or upload the document again.");
} else {
  installShortcuts({
    next: () => stepItem(1),
    prev: () => stepItem(-1),
    nextSection: () => stepSection(1),
    prevSection: () => stepSection(-1),
    accept: () => onSelected((i) => actions.decide(i.id, "accepted")),
    reject: () => onSelected((i) => decisionOf(i) === "rejected" || views.findings.askReject(i.id) || actions.decide(i.id, "rejected")),
    revert: () => onSelected((i) => actions.decide(i.id, "pending")),
    edit: () => onSelected((i) => (i.source === "user" ? actions.editItem(i) : toasts.info("Only your own comments can be edited.", { timeout: 2500 }))),
    chat: () => { layout.reveal("chat"); views.chat.focus(); },
    stats: () => actions.openStats(),
    help: () => actions.openHelp(),
    escape: () => {
      if (ui.selectedId || ui.refHighlight) { ui.selectedId = null; ui.refHighlight = null; schedule(); }
    },
  });
  conn.start();
  pollQueues();
  const notice = takeNotice(reviewId); // from the upload page (e.g. the analysis did not start)
  if (notice) toasts.error(notice);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) { pollQueues(); schedule(); } });
}

// -------------------------------------------------------- for the tests ---
// window.redline.state      the current review state (pure data)
// window.redline.eventLog   ids of every event applied, in order, each once
// window.redline.appliedIds the same array; appliedCount its length
// window.redline.connection the Connection (state, stats: connects, recovered, snapshots, duplicates, gaps)
window.redline = {
  store,
  ui,
  actions,
  layout,
  get state() { return store.state; },
  get eventLog() { return store.eventLog; },
  get appliedIds() { return store.eventLog; },
  get appliedCount() { return store.eventLog.length; },
  get snapshots() { return store.snapshots; },
  get ignored() { return store.ignored; },
  connection: conn,
  get renders() { return renders; },
  get settled() { return frame === 0; }, // no render pending: the DOM shows the state
  counts() {
    const s = store.state;
    if (!s) return null;
    const by = (k) => s.items.reduce((o, i) => ((o[i[k]] = (o[i[k]] || 0) + 1), o), {});
    return { items: s.items.length, risk: by("risk"), type: by("type"), decision: by("decision"),
      sections: Object.fromEntries(s.sections.map((x) => [x.id, x.status])), chat: s.chat.length };
  },
};
