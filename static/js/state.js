// The review state and its one reducer. `applyEvent(state, event)` is pure: it never
// mutates `state`, and it returns `state` itself (the very same object) for an event
// whose id is not newer than the last applied one, so applying twice is harmless.

/** Stream ids "ms-seq" as a pair of numbers; null/"" sort first. */
export function idKey(id) {
  if (!id) return [-1, -1];
  const [ms, seq] = String(id).split("-");
  return [Number(ms) || 0, Number(seq) || 0];
}

export function compareIds(a, b) {
  const [am, as] = idKey(a);
  const [bm, bs] = idKey(b);
  if (am !== bm) return am < bm ? -1 : 1;
  if (as !== bs) return as < bs ? -1 : 1;
  return 0;
}

export const RISKS = ["high", "medium", "low"];
export const TYPES = ["critical", "important", "suggestion"];
export const DECISIONS = ["pending", "accepted", "rejected"];
/** What became of a finding with a new version; "new": raised since that version arrived. */
export const RESOLUTIONS = ["open", "resolved", "outdated", "new"];
export const RISK_RANK = { high: 0, medium: 1, low: 2 };
export const TYPE_RANK = { critical: 0, important: 1, suggestion: 2 };

const JOB_END = { "job.completed": "complete", "job.failed": "failed", "job.cancelled": "cancelled" };
const SECTION_END = { "job.completed": "done", "job.failed": "failed", "job.cancelled": "cancelled" };

function normalizeSection(s) {
  return {
    id: s.id, title: s.title || "Untitled section", index: s.index ?? 0, text: s.text || "",
    level: s.level || 1, marks: Array.isArray(s.marks) ? s.marks : [], // Markdown formatting over `text`
    status: s.status || "idle", progress: Number(s.progress) || 0,
    job_id: s.job_id || null, error: s.error || null, message: s.message || null,
    // What changed since the previous version (absent on a first version): see sectionChanges().
    change: s.change || null, previous_ids: Array.isArray(s.previous_ids) ? s.previous_ids : [],
    previous_title: s.previous_title || null, previous_text: typeof s.previous_text === "string" ? s.previous_text : null,
    moved: !!s.moved,
  };
}

function normalizeItem(i) {
  return { questions: [], refs: [], suggestion: "", quote: null, confidence: 0.7, decision: "pending", ...i };
}

/** A state from a snapshot (GET /api/reviews/{id} or welcome.review). */
export function fromSnapshot(snap) {
  const jobs = {};
  for (const j of snap.jobs || []) {
    jobs[j.job_id] = { job_id: j.job_id, kind: j.kind, section_id: j.section_id || null,
      message_id: j.message_id || null, status: j.status || "queued", progress: Number(j.progress) || 0,
      attempt: j.attempt || 0, error: j.error || null };
  }
  return {
    reviewId: snap.review_id,
    title: snap.title || "Untitled review",
    kind: snap.kind || "",
    filename: snap.filename || "",
    sections: (snap.sections || []).map(normalizeSection).sort((a, b) => a.index - b.index),
    items: (snap.items || []).map(normalizeItem),
    chat: (snap.chat || []).map((m) => ({ ...m, citations: Array.isArray(m.citations) ? m.citations : [], streaming: false })),
    jobs,
    usage: snap.usage || {},
    reviewer: snap.reviewer || null,
    lastEventId: snap.last_event_id || null,
    // Rounds: the version shown (1 for a first upload), every upload, the sections dropped
    // (with their text, where outdated findings stay), the latest round's summary.
    version: Number(snap.version) || 1,
    versions: Array.isArray(snap.versions) ? snap.versions : [],
    removed_sections: Array.isArray(snap.removed_sections) ? snap.removed_sections : [],
    round: snap.round || null,
  };
}

function mapSections(state, pred, fn) {
  let changed = false;
  const sections = state.sections.map((s) => {
    if (!pred(s)) return s;
    changed = true;
    return { ...s, ...fn(s) };
  });
  return changed ? { ...state, sections } : state;
}

function setJob(state, jobId, fields) {
  const prev = state.jobs[jobId] || { job_id: jobId, kind: "analyze", section_id: null, status: "queued",
    progress: 0, attempt: 0, error: null, message_id: null };
  return { ...state, jobs: { ...state.jobs, [jobId]: { ...prev, ...fields } } };
}

function upsertItem(state, item) {
  const idx = state.items.findIndex((i) => i.id === item.id);
  const items = state.items.slice();
  if (idx >= 0) {
    const merged = { ...normalizeItem(item) };
    if (item.decision === undefined) { // an item without its decision keeps the one we have
      for (const k of ["decision", "decided_by", "decided_at", "reason"]) merged[k] = state.items[idx][k];
    }
    items[idx] = merged;
  } else {
    items.push(normalizeItem(item));
  }
  return { ...state, items };
}

// A version never changes a decision (the store keeps them apart), so a decision this tab
// applied after the server read its snapshot is not undone by the version's copy of the item.
const DECISION_KEYS = ["decision", "decided_by", "decided_at", "reason"];

/** review.version: the new version's sections in place, the moved/settled items rewritten. */
function applyVersion(state, d) {
  const version = Number(d.version) || state.version + 1;
  const oldText = new Map(state.sections.map((s) => [s.id, s.text]));
  for (const r of state.removed_sections) oldText.set(r.id, r.text || "");
  const before = new Map(state.removed_sections.map((r) => [r.id, r]));
  // The event names the removed sections (id, title); their text is the one this tab had.
  const removed = (Array.isArray(d.removed_sections) ? d.removed_sections : []).map((r) => before.get(r.id)
    || { id: r.id, title: r.title || "Untitled section", text: oldText.get(r.id) || "", version });
  let next = { ...state, sections: (d.sections || []).map(normalizeSection).sort((a, b) => a.index - b.index) };
  for (const item of Array.isArray(d.items) ? d.items : []) {
    if (!item || !item.id) continue;
    const had = state.items.find((i) => i.id === item.id);
    const kept = had ? Object.fromEntries(DECISION_KEYS.filter((k) => k in had).map((k) => [k, had[k]])) : {};
    next = upsertItem(next, { ...item, ...kept });
  }
  const round = { ...(d.round || {}), version, at: d.at || null };
  const versions = state.versions.length ? state.versions.slice()
    : [{ version: state.version, filename: state.filename || null }];
  versions.push({ version, at: d.at || null, filename: d.filename || null, by: d.by || null,
    resolved: round.resolved, open: round.open, outdated: round.outdated, sections: round.sections });
  return { ...next, version, round, versions, removed_sections: removed,
    filename: d.filename || state.filename, kind: d.kind || state.kind };
}

function chatIndex(state, messageId) {
  return state.chat.findIndex((m) => m.message_id === messageId);
}

function answerFor(state, answerId, fields) {
  const idx = chatIndex(state, answerId);
  const chat = state.chat.slice();
  if (idx >= 0) {
    chat[idx] = { ...chat[idx], ...fields(chat[idx]) };
  } else {
    const replyTo = answerId.endsWith(".a") ? answerId.slice(0, -2) : null;
    const base = { message_id: answerId, role: "assistant", text: "", reply_to: replyTo, streaming: true, attempt: null };
    const msg = { ...base, ...fields(base) };
    const q = replyTo ? chatIndex(state, replyTo) : -1;
    if (q >= 0) chat.splice(q + 1, 0, msg);
    else chat.push(msg);
  }
  return { ...state, chat };
}

function reduce(state, kind, d) {
  switch (kind) {
    case "job.queued": {
      let next = setJob(state, d.job_id, { kind: d.kind || "analyze", section_id: d.section_id || null,
        message_id: d.message_id || null, status: "queued", progress: 0, error: null });
      if (d.section_id) {
        next = mapSections(next, (s) => s.id === d.section_id,
          () => ({ status: "queued", progress: 0, job_id: d.job_id, error: null, message: null }));
      }
      return next;
    }
    case "job.started": {
      const next = setJob(state, d.job_id, { status: "active", progress: 0, attempt: d.attempt || 1 });
      return mapSections(next, (s) => s.job_id === d.job_id, () => ({ status: "running", progress: 0, message: null }));
    }
    case "job.progress": {
      const next = setJob(state, d.job_id, { progress: Number(d.progress) || 0 });
      return mapSections(next, (s) => s.job_id === d.job_id,
        () => ({ status: "running", progress: Number(d.progress) || 0, message: d.message || null }));
    }
    case "job.completed":
    case "job.failed":
    case "job.cancelled": {
      const status = JOB_END[kind];
      let next = setJob(state, d.job_id, { status, progress: kind === "job.completed" ? 1 : (state.jobs[d.job_id]?.progress || 0),
        error: d.error || (kind === "job.cancelled" ? "cancelled" : null), result: d.result || null });
      next = mapSections(next, (s) => s.job_id === d.job_id, () => ({ status: SECTION_END[kind],
        progress: kind === "job.completed" ? 1 : 0, error: d.error || null, message: null }));
      const job = next.jobs[d.job_id];
      if (job.message_id && kind !== "job.completed") {
        const answerId = `${job.message_id}.a`;
        next = answerFor(next, answerId, (m) => (m.streaming || !m.text
          ? { streaming: false, status: status, error: d.error || null } : {}));
      }
      return next;
    }
    case "item.added":
    case "item.updated":
      return d.item && d.item.id ? upsertItem(state, d.item) : state;
    case "item.removed":
      return { ...state, items: state.items.filter((i) => i.id !== d.item_id) };
    case "item.decided": {
      const idx = state.items.findIndex((i) => i.id === d.item_id);
      if (idx < 0) return state;
      const items = state.items.slice();
      const item = { ...items[idx], decision: d.decision };
      item.decided_by = d.by || null;
      item.decided_at = d.at || null;
      item.reason = d.reason || null;
      items[idx] = item;
      return { ...state, items };
    }
    case "chat.message": {
      if (chatIndex(state, d.message_id) >= 0) return state;
      const msg = { message_id: d.message_id, role: d.role || "user", text: d.text || "", author: d.author || null,
        section_id: d.section_id || null, streaming: false };
      return { ...state, chat: [...state.chat, msg] };
    }
    case "chat.delta":
      return answerFor(state, d.message_id, (m) => {
        const attempt = d.attempt ?? m.attempt;
        const restart = m.attempt !== null && m.attempt !== undefined && attempt !== m.attempt;
        return { text: (restart ? "" : m.text || "") + (d.text || ""), attempt, streaming: true, status: null };
      });
    case "chat.completed":
      return answerFor(state, d.message_id, () => ({ text: d.text || "", streaming: false, status: "done",
        reply_to: d.reply_to || undefined, citations: Array.isArray(d.citations) ? d.citations : [] }));
    case "review.version":
      return Array.isArray(d.sections) ? applyVersion(state, d) : state;
    case "usage.updated":
      return { ...state, usage: { ...(d.usage || {}) } };
    default:
      return state; // an event kind this page does not know: skipped, but its id still counts
  }
}

/** The state after `event`; `state` itself when the event is not newer than the last applied one. */
export function applyEvent(state, event) {
  if (!state || !event || typeof event.id !== "string") return state;
  if (state.lastEventId && compareIds(event.id, state.lastEventId) <= 0) return state;
  const next = reduce(state, event.kind, event.data || {});
  return { ...next, lastEventId: event.id };
}

// ---------------------------------------------------------------- queries ---

export function sectionById(state, id) {
  return state.sections.find((s) => s.id === id) || null;
}

export function unfinishedJobs(state) {
  return Object.values(state.jobs).filter((j) => j.status === "queued" || j.status === "active");
}

export function isSectionBusy(section) {
  return section.status === "queued" || section.status === "running";
}

/** Overall analysis progress: done sections count 1, running ones their progress. */
export function overallProgress(state) {
  const n = state.sections.length;
  if (!n) return { fraction: 0, done: 0, total: 0, busy: 0 };
  let sum = 0;
  let done = 0;
  let busy = 0;
  for (const s of state.sections) {
    if (s.status === "done") { sum += 1; done += 1; }
    else if (s.status === "running") { sum += s.progress; busy += 1; }
    else if (s.status === "queued") busy += 1;
  }
  return { fraction: sum / n, done, total: n, busy };
}

/** A finding's round: its `resolution`, "new" when raised after the latest version arrived,
 * null while the review has one version. */
export function resolutionOf(state, item) {
  if (item.resolution) return item.resolution;
  return state.version > 1 ? "new" : null;
}

/**
 * The latest round, live from the items (null on a first version): resolved / outdated in this
 * version, still open, new since it arrived, and the sections' changes. The same counts as the
 * snapshot's `round` (jobs/store.py version_view), so every tab and a reload agree.
 */
export function roundSummary(state) {
  if (!state || state.version <= 1) return null;
  const out = { version: state.version, resolved: 0, open: 0, outdated: 0, new: 0 };
  for (const i of state.items) {
    const r = i.resolution;
    if (r === "open") out.open += 1;
    else if ((r === "resolved" || r === "outdated") && i.settled_in === state.version) out[r] += 1;
    else if (!r) out.new += 1;
  }
  const kinds = { unchanged: 0, changed: 0, added: 0 };
  for (const s of state.sections) if (s.change in kinds) kinds[s.change] += 1;
  const removed = state.round && state.round.sections ? Number(state.round.sections.removed) || 0 : 0;
  out.sections = { ...kinds, removed };
  out.by = (state.versions.find((v) => v.version === state.version) || {}).by || null;
  return out;
}

/** The marks of a section since the previous version: changed / added, moved, renamed. */
export function sectionChanges(section) {
  const out = [];
  if (section.change === "changed" || section.change === "added") out.push(section.change);
  if (section.moved) out.push("moved");
  if (section.previous_title && section.previous_title !== section.title) out.push("renamed");
  return out;
}

/** Ids of the sections to analyze again after a new version: the changed and the added ones. */
export function changedSectionIds(state) {
  return state.sections.filter((s) => s.change === "changed" || s.change === "added").map((s) => s.id);
}
