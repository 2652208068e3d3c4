// The header: title, overall progress, queue status, reviewer badge, presence,
// connection state, and the page's actions (stats, .docx, share, name, theme, help).

import { h, icon, iconButton, pct, plural, setChildren, addChildren } from "../dom.js";
import { overallProgress, unfinishedJobs } from "../state.js";
import { themeToggle } from "../theme.js";

function initials(name) {
  const parts = String(name || "?").trim().split(/\s+/).filter(Boolean);
  const s = parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : (parts[0] || "?").slice(0, 2);
  return s.toUpperCase();
}

function hue(name) {
  let x = 0;
  for (const ch of String(name)) x = (x * 31 + ch.codePointAt(0)) % 360;
  return x;
}

export function createHeader(ctx) {
  const title = document.getElementById("review-title");
  const overall = document.getElementById("overall");
  const status = document.getElementById("topbar-status");
  const actions = document.getElementById("topbar-actions");

  // ---- overall progress
  const bar = h("div", { class: "progress", role: "progressbar", "aria-label": "Analysis progress",
    "aria-valuemin": "0", "aria-valuemax": "100" });
  const fill = h("div", { class: "progress-fill" });
  bar.appendChild(fill);
  const overallText = h("span", { class: "overall-text" });
  addChildren(overall, bar, overallText);

  // ---- status cluster
  const queue = h("span", { class: "chip chip-queue", id: "queue-status", title: "Work queues" });
  const reviewer = h("span", { class: "chip chip-reviewer", id: "reviewer-badge" });
  const presence = h("div", { class: "presence", id: "presence", role: "group", "aria-label": "Who is viewing" });
  const conn = h("span", { class: "conn", id: "connection-state", role: "status" });
  addChildren(status, queue, reviewer, presence, conn);

  // ---- actions
  const statsBtn = h("button", { type: "button", class: "btn btn-sm btn-ghost", id: "open-stats",
    onclick: () => ctx.actions.openStats(), "aria-label": "Statistics and exports (s)", title: "Statistics and exports (s)" },
  icon("chart"), h("span", { class: "btn-text" }, "Stats"));
  const choice = (id, key, label, options) => h("select", { id, class: "select select-xs", "aria-label": label, title: label,
    onchange: (e) => ctx.actions.setExport(key, e.target.value) },
  options.map(([value, text]) => h("option", { value }, text)));
  const exportInclude = choice("docx-include", "include", "Findings written as Word comments", [
    ["accepted", "Accepted findings"], ["accepted_and_pending", "Accepted and pending"], ["all", "All findings"]]);
  const exportChanges = choice("docx-changes", "changes", "How accepted rewrites are written", [
    ["both", "Tracked changes + comments"], ["tracked", "Tracked changes only"], ["comments", "Quoted in comments"]]);
  // The review record (the audit trail) as an appendix table at the end of the .docx.
  const exportAudit = h("input", { type: "checkbox", id: "docx-audit",
    onchange: (e) => ctx.actions.setExport("audit", e.target.checked ? "1" : "0") });
  const docxBtn = h("button", { type: "button", class: "btn btn-sm btn-primary", id: "download-docx",
    onclick: () => ctx.actions.downloadDocx(), "aria-label": "Download .docx" }, icon("download"),
  h("span", { class: "btn-text-long" }, "Download "), ".docx");
  docxBtn.title = "Download the document with the chosen findings as Word comments and accepted rewrites as tracked changes";
  // What the .docx holds: a small panel under a toggle beside the button (the header stays narrow).
  const optionsSummary = h("summary", { class: "btn btn-sm btn-ghost docx-options-toggle", id: "docx-options-toggle",
    title: "What the .docx holds", "aria-label": "Word export options" });
  const options = h("details", { class: "docx-options", id: "docx-options" }, optionsSummary,
    h("div", { class: "docx-options-panel", role: "group", "aria-label": "Word export options" },
      h("label", { for: "docx-include" }, "Findings as comments"), exportInclude,
      h("label", { for: "docx-changes" }, "Accepted rewrites"), exportChanges,
      h("label", { class: "docx-options-check", title: "Append who decided what, when and why as a table at the end" },
        exportAudit, "Attach the review record")));
  document.addEventListener("click", (e) => { if (options.open && !options.contains(e.target)) options.open = false; });
  options.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && options.open) { e.preventDefault(); e.stopPropagation(); options.open = false; optionsSummary.focus(); }
  });
  const SHORT = { accepted: "Accepted", accepted_and_pending: "+ Pending", all: "All" };
  const docxGroup = h("div", { class: "docx-group", role: "group", "aria-label": "Word export" }, docxBtn, options);
  const shareBtn = iconButton("link", "Copy a link to this review", { id: "share-link", onclick: () => ctx.actions.copyLink() });
  const nameBtn = h("button", { type: "button", class: "btn btn-sm btn-ghost name-btn", id: "my-name",
    onclick: () => ctx.actions.openName() });
  const themeBtn = h("button", { type: "button", class: "icon-btn", id: "theme-toggle" });
  const helpBtn = iconButton("help", "Keyboard shortcuts (?)", { id: "open-help", onclick: () => ctx.actions.openHelp() });
  addChildren(actions, statsBtn, docxGroup, shareBtn, nameBtn, themeBtn, helpBtn);
  themeToggle(themeBtn);

  let last = {};

  function update(model) {
    const { state, ui } = model;
    if (state.title !== last.title) {
      title.textContent = state.title;
      title.title = state.filename ? `${state.title} — ${state.filename}` : state.title;
      document.title = `${state.title} — Redline`;
      last.title = state.title;
    }
    const p = overallProgress(state);
    const running = unfinishedJobs(state).filter((j) => j.kind === "analyze").length;
    fill.style.width = pct(p.fraction);
    bar.setAttribute("aria-valuenow", String(Math.round(p.fraction * 100)));
    bar.classList.toggle("is-busy", p.busy > 0);
    overallText.textContent = p.total
      ? `${p.done} of ${plural(p.total, "section")} analyzed${running ? ` · ${running} in progress` : ""}`
      : "No sections";
    const r = state.reviewer;
    const sig = r ? `${r.reviewer}|${r.model}` : "";
    if (sig !== last.reviewer) {
      last.reviewer = sig;
      if (r && r.reviewer === "claude") {
        reviewer.className = "chip chip-reviewer is-claude";
        setChildren(reviewer, h("span", { class: "chip-dot", "aria-hidden": "true" }), "Claude",
          r.model ? h("span", { class: "chip-sub" }, r.model) : null);
        reviewer.title = `Reviewed by Claude${r.model ? ` (${r.model})` : ""}`;
      } else if (r) {
        reviewer.className = "chip chip-reviewer is-offline";
        setChildren(reviewer, h("span", { class: "chip-dot", "aria-hidden": "true" }), "Offline reviewer");
        reviewer.title = "The built-in offline reviewer (no model key configured)";
      } else {
        setChildren(reviewer);
      }
    }
    exportInclude.value = ui.exportInclude;
    exportChanges.value = ui.exportChanges;
    exportAudit.checked = !!ui.exportAudit;
    const exportSig = `${ui.exportInclude}|${ui.exportChanges}|${!!ui.exportAudit}`;
    if (exportSig !== last.exportSig) {
      last.exportSig = exportSig;
      setChildren(optionsSummary, h("span", { class: "docx-options-text" },
        `${SHORT[ui.exportInclude] || ui.exportInclude}${ui.exportAudit ? " + record" : ""}`), icon("chevronDown", 14));
      optionsSummary.setAttribute("aria-label", `Word export options: ${exportInclude.selectedOptions[0]?.textContent || ""}, `
        + `${exportChanges.selectedOptions[0]?.textContent || ""}${ui.exportAudit ? ", with the review record" : ""}`);
    }
    setChildren(nameBtn, icon("user"), h("span", { class: "name-text" }, ui.name));
    nameBtn.setAttribute("aria-label", `Your name: ${ui.name} (change)`);
    nameBtn.title = "Your name, as other viewers see it";
  }

  function setPresence(viewers, myName) {
    setChildren(presence);
    const total = viewers.reduce((n, v) => n + (v.tabs || 0), 0);
    const others = viewers.filter((v) => v.name !== myName);
    const mine = viewers.find((v) => v.name === myName);
    presence.setAttribute("aria-label", `${plural(total, "tab")} open on this review`);
    const shown = [...others];
    if (mine && mine.tabs > 1) shown.push({ ...mine, self: true });
    for (const v of shown.slice(0, 5)) {
      const label = v.self ? `You, in ${plural(v.tabs, "tab")}` : `${v.name}, ${plural(v.tabs, "tab")}`;
      const av = h("span", { class: "avatar", title: label, "aria-label": label, role: "img",
        dataset: { name: v.name, tabs: String(v.tabs) } },
      h("span", { "aria-hidden": "true" }, initials(v.name)),
      v.tabs > 1 ? h("span", { class: "avatar-tabs", "aria-hidden": "true" }, String(v.tabs)) : null);
      av.style.setProperty("--hue", String(hue(v.name)));
      if (v.self) av.classList.add("is-self");
      presence.appendChild(av);
    }
    if (shown.length > 5) presence.appendChild(h("span", { class: "avatar more" }, `+${shown.length - 5}`));
    presence.hidden = shown.length === 0;
    presence.dataset.viewers = JSON.stringify(viewers.map((v) => [v.name, v.tabs]));
  }

  let countdown = null;
  function setConnection(info, retry) {
    clearInterval(countdown);
    const paint = () => {
      let text;
      let tone;
      if (info.fatal) { text = "Disconnected"; tone = "bad"; }
      else if (info.state === "open") { text = "Live"; tone = "ok"; }
      else if (info.state === "waiting" && info.retryAt) {
        const s = Math.max(0, Math.ceil((info.retryAt - Date.now()) / 1000));
        text = s > 0 ? `Reconnecting in ${s} s` : "Reconnecting…";
        tone = "warn";
      } else if (info.state === "connecting") { text = info.everWelcomed ? "Reconnecting…" : "Connecting…"; tone = "warn"; }
      else { text = "Offline"; tone = "bad"; }
      conn.className = `conn conn-${tone}`;
      conn.dataset.state = info.fatal ? "closed" : info.state;
      setChildren(conn, h("span", { class: "conn-dot", "aria-hidden": "true" }), h("span", null, text));
      if (info.state === "waiting" && retry) {
        conn.appendChild(h("button", { type: "button", class: "btn btn-xs btn-ghost", onclick: retry }, "Retry now"));
      }
    };
    paint();
    if (info.state === "waiting") countdown = setInterval(paint, 500);
  }

  function setQueues(data, error) {
    if (error || !data) {
      queue.className = "chip chip-queue is-unknown";
      setChildren(queue, h("span", { class: "chip-dot", "aria-hidden": "true" }), "Queue: —");
      queue.title = "Queue status unavailable";
      return;
    }
    const qs = data.queues || {};
    let queued = 0;
    let active = 0;
    let workers = 0;
    const detail = [];
    for (const [name, q] of Object.entries(qs)) {
      queued += q.queued || 0;
      active += q.active || 0;
      workers = Math.max(workers, q.workers || 0);
      detail.push(`${name}: ${q.queued || 0} waiting, ${q.active || 0} running, ${plural(q.workers || 0, "worker")}`);
    }
    const noWorker = Object.keys(qs).length > 0 && workers === 0;
    queue.className = `chip chip-queue${noWorker ? " is-warn" : queued + active ? " is-busy" : ""}`;
    const text = noWorker ? "No worker running" : queued + active ? `${active} running · ${queued} waiting` : "Queue idle";
    setChildren(queue, h("span", { class: "chip-dot", "aria-hidden": "true" }), text);
    queue.title = detail.join("\n") || "No queues";
    queue.setAttribute("aria-label", `Queue status: ${text}`);
  }

  return { update, setPresence, setConnection, setQueues };
}
