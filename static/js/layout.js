// The review page's layout: the split between the document and the side column (findings
// and chat), dragged or moved with the arrow keys and remembered (localStorage); on narrow
// screens one pane at a time behind a tablist (Document · Findings · Chat), with the
// section list folded above the document.

const SIDE_KEY = "redline.sideWidth"; // the side column's share of the workspace width (0..1)
const TAB_KEY = "redline.tab"; // the pane shown on narrow screens (sessionStorage: per tab)
export const NARROW = "(max-width: 699.98px)";
const PANES = { document: "document-pane", findings: "findings-pane", chat: "chat-pane" };
const MIN_SIDE = 300; // px, as the CSS clamp
const MIN_DOC = 320; // px

const $ = (id) => document.getElementById(id);

export function createLayout() {
  const workspace = $("workspace");
  const narrow = matchMedia(NARROW);
  const tabs = [...document.querySelectorAll("#pane-tabs [role=tab]")];
  let current = "document";
  try { const saved = sessionStorage.getItem(TAB_KEY); if (saved in PANES) current = saved; } catch { /* ignore */ }

  // ---- tabs (narrow screens)
  function select(name, { focus = false, save = true } = {}) {
    if (!(name in PANES)) return;
    current = name;
    workspace.dataset.tab = name;
    for (const t of tabs) {
      const on = t.dataset.pane === name;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      if (on && focus) t.focus();
    }
    if (save) { try { sessionStorage.setItem(TAB_KEY, name); } catch { /* ignore */ } }
  }

  /** Panels are tabpanels only while the tabs are shown. */
  function applyMode() {
    const isNarrow = narrow.matches;
    document.body.classList.toggle("is-narrow", isNarrow);
    for (const t of tabs) {
      const pane = $(PANES[t.dataset.pane]);
      if (isNarrow) {
        pane.setAttribute("role", "tabpanel");
        pane.setAttribute("aria-labelledby", t.id);
        pane.removeAttribute("aria-label");
      } else {
        pane.removeAttribute("role");
        pane.removeAttribute("aria-labelledby");
        if (pane.dataset.ariaLabel) pane.setAttribute("aria-label", pane.dataset.ariaLabel);
      }
    }
    if (!isNarrow) applySide(side, false);
  }
  for (const t of tabs) {
    const pane = $(PANES[t.dataset.pane]);
    pane.dataset.ariaLabel = pane.getAttribute("aria-label") || "";
    t.addEventListener("click", () => select(t.dataset.pane));
    t.addEventListener("keydown", (e) => {
      const at = tabs.indexOf(t);
      let next = null;
      if (e.key === "ArrowRight") next = tabs[(at + 1) % tabs.length];
      else if (e.key === "ArrowLeft") next = tabs[(at - 1 + tabs.length) % tabs.length];
      else if (e.key === "Home") next = tabs[0];
      else if (e.key === "End") next = tabs[tabs.length - 1];
      if (!next) return;
      e.preventDefault();
      e.stopPropagation();
      select(next.dataset.pane, { focus: true });
    });
  }
  select(current, { save: false });

  // ---- the section list, folded above the document on narrow screens
  const sectionsHead = document.querySelector("#sections-pane .pane-head");
  const fold = document.createElement("button");
  fold.type = "button";
  fold.className = "btn btn-xs btn-ghost sections-fold";
  fold.id = "sections-fold";
  fold.setAttribute("aria-controls", "section-list");
  const paintFold = () => {
    const open = document.body.classList.contains("sections-open");
    fold.textContent = open ? "Hide list" : "Show list";
    fold.setAttribute("aria-expanded", String(open));
  };
  fold.addEventListener("click", () => { document.body.classList.toggle("sections-open"); paintFold(); });
  if (sectionsHead) {
    const spacer = document.createElement("span");
    spacer.className = "spacer sections-fold-spacer";
    sectionsHead.append(spacer, fold);
  }
  paintFold();

  // ---- the split between the document and the side column (wider screens)
  const handle = document.createElement("div");
  handle.className = "side-resizer";
  handle.id = "side-resizer";
  handle.tabIndex = 0;
  handle.setAttribute("role", "separator");
  handle.setAttribute("aria-orientation", "vertical");
  handle.setAttribute("aria-label", "Resize the document and the findings (arrow keys)");
  handle.setAttribute("aria-controls", "findings-pane chat-pane");
  workspace.appendChild(handle);

  let side = null; // saved share, or null for the stylesheet's default
  try { const v = Number(localStorage.getItem(SIDE_KEY)); if (v > 0 && v < 1) side = v; } catch { /* ignore */ }

  function bounds() {
    const w = workspace.getBoundingClientRect().width || window.innerWidth;
    const nav = parseFloat(getComputedStyle(workspace).getPropertyValue("--nav-w")) || 0;
    const max = Math.max(MIN_SIDE, w - nav - MIN_DOC);
    return { w, lo: MIN_SIDE / w, hi: max / w };
  }

  function measured() {
    const w = workspace.getBoundingClientRect().width || 1;
    const f = $("findings-pane").getBoundingClientRect();
    const c = $("chat-pane").getBoundingClientRect();
    const right = Math.max(f.right, c.right);
    return (right - f.left) / w;
  }

  function applySide(f, save) {
    if (f === null) {
      workspace.style.removeProperty("--side-w");
    } else {
      const { lo, hi } = bounds();
      f = Math.max(lo, Math.min(hi, f));
      workspace.style.setProperty("--side-w", `${(f * 100).toFixed(2)}%`);
      if (save) { try { localStorage.setItem(SIDE_KEY, String(f)); } catch { /* ignore */ } }
    }
    // The separator's position, in % of the width from the left (the side column's share is 100 - it).
    const shown = f === null ? measured() : f;
    const { lo, hi } = bounds();
    handle.setAttribute("aria-valuenow", String(Math.round((1 - shown) * 100)));
    handle.setAttribute("aria-valuemin", String(Math.round((1 - hi) * 100)));
    handle.setAttribute("aria-valuemax", String(Math.round((1 - lo) * 100)));
    return f;
  }

  handle.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    handle.setPointerCapture(e.pointerId);
    handle.classList.add("is-dragging");
    document.body.classList.add("is-resizing");
    let f = side === null ? measured() : side;
    const move = (ev) => {
      const r = workspace.getBoundingClientRect();
      f = applySide((r.right - ev.clientX) / r.width, false);
    };
    const up = () => {
      handle.classList.remove("is-dragging");
      document.body.classList.remove("is-resizing");
      handle.removeEventListener("pointermove", move);
      handle.removeEventListener("pointerup", up);
      handle.removeEventListener("pointercancel", up);
      side = applySide(f, true);
    };
    handle.addEventListener("pointermove", move);
    handle.addEventListener("pointerup", up);
    handle.addEventListener("pointercancel", up);
  });
  handle.addEventListener("keydown", (e) => {
    const step = 0.03;
    const f = side === null ? measured() : side;
    let next = null;
    if (e.key === "ArrowLeft") next = f + step; // the separator moves left: the side column grows
    else if (e.key === "ArrowRight") next = f - step;
    else if (e.key === "Home") next = bounds().hi;
    else if (e.key === "End") next = bounds().lo;
    if (next === null) return;
    e.preventDefault();
    side = applySide(next, true);
  });
  handle.addEventListener("dblclick", () => {
    side = null;
    try { localStorage.removeItem(SIDE_KEY); } catch { /* ignore */ }
    applySide(null, false);
  });

  // "Skip to findings" shows them first on narrow screens.
  const skip = document.querySelector(".skip-link[href='#findings-list']");
  if (skip) skip.addEventListener("click", () => { if (narrow.matches) select("findings"); });

  narrow.addEventListener("change", applyMode);
  window.addEventListener("resize", () => { if (!narrow.matches) applySide(side, false); });
  applyMode();

  return {
    get pane() { return current; },
    get narrow() { return narrow.matches; },
    select,
    /** On narrow screens, show pane `name` (a finding's quote shows the document, …). */
    reveal(name) { if (narrow.matches && name !== current) select(name); },
    setCounts({ findings }) {
      const el = $("tab-findings-count");
      if (el && el.textContent !== String(findings)) el.textContent = findings ? String(findings) : "";
    },
  };
}
