// Quiet banners (connection, service state) under the header, and toasts (errors, undo).

import { h, icon, iconButton, setChildren, addChildren } from "../dom.js";

export function createBanner(root) {
  const entries = new Map(); // key -> {el, timer}

  function show(key, text, { tone = "info", action = null, timeout = 0 } = {}) {
    let entry = entries.get(key);
    if (!entry) {
      entry = { el: h("div", { class: "banner", dataset: { key } }), timer: null };
      entries.set(key, entry);
      root.appendChild(entry.el);
    }
    clearTimeout(entry.timer);
    entry.el.className = `banner banner-${tone}`;
    setChildren(entry.el, 
      h("span", { class: "banner-dot", "aria-hidden": "true" }),
      h("span", { class: "banner-text" }, text),
      action ? h("button", { type: "button", class: "btn btn-xs btn-ghost", onclick: action.run }, action.label) : null,
    );
    if (timeout) entry.timer = setTimeout(() => hide(key), timeout);
  }

  function hide(key) {
    const entry = entries.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    entry.el.remove();
    entries.delete(key);
  }

  return { show, hide, has: (key) => entries.has(key) };
}

export function createToasts(root) {
  function toast(text, { tone = "info", action = null, timeout = 6000 } = {}) {
    const el = h("div", { class: `toast toast-${tone}`, role: tone === "error" ? "alert" : "status" });
    const close = () => { clearTimeout(timer); el.remove(); };
    addChildren(el, 
      tone === "error" ? icon("alert") : null,
      h("span", { class: "toast-text" }, text),
      action ? h("button", { type: "button", class: "btn btn-xs", onclick: () => { close(); action.run(); } }, action.label) : null,
      iconButton("x", "Dismiss", { class: "sm", onclick: close }),
    );
    root.appendChild(el);
    while (root.children.length > 4) root.firstElementChild.remove();
    let timer = timeout ? setTimeout(close, timeout) : null;
    el.addEventListener("mouseenter", () => clearTimeout(timer));
    el.addEventListener("mouseleave", () => { if (timeout) timer = setTimeout(close, timeout); });
    return close;
  }
  return {
    info: (text, opts) => toast(text, { ...opts, tone: "info" }),
    error: (text, opts) => toast(text, { timeout: 9000, ...opts, tone: "error" }),
  };
}
