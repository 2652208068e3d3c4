// Dialog helpers: a <dialog> with a title, a close button, Escape to close, focus return.

import { h, iconButton, setChildren, addChildren } from "../dom.js";

export function dialogShell(dialog, titleId, title) {
  const body = h("div", { class: "dialog-body" });
  const closeBtn = iconButton("x", "Close", { class: "dialog-close", onclick: () => dialog.close() });
  setChildren(dialog, h("div", { class: "dialog-head" }, h("h2", { id: titleId }, title), closeBtn), body);
  let opener = null;
  dialog.addEventListener("close", () => {
    if (opener && opener.isConnected) opener.focus({ preventScroll: true });
    opener = null;
  });
  // A click on the backdrop closes.
  dialog.addEventListener("mousedown", (e) => {
    if (e.target === dialog) {
      const r = dialog.getBoundingClientRect();
      const inside = e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom;
      if (!inside) dialog.close();
    }
  });
  return {
    body,
    open() {
      if (dialog.open) return;
      opener = document.activeElement;
      dialog.showModal();
    },
    close() { if (dialog.open) dialog.close(); },
    get isOpen() { return dialog.open; },
  };
}

/** A small confirmation dialog; resolves true when confirmed. */
export function confirmDialog(message, { confirmLabel = "OK", danger = false } = {}) {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "dialog dialog-narrow", "aria-labelledby": "confirm-title" });
    document.body.appendChild(dialog);
    const shell = dialogShell(dialog, "confirm-title", "Please confirm");
    let answer = false;
    const ok = h("button", { type: "button", class: `btn ${danger ? "btn-danger-solid" : "btn-primary"}`, onclick: () => { answer = true; shell.close(); } }, confirmLabel);
    addChildren(shell.body, h("p", null, message), h("div", { class: "dialog-actions" },
      h("button", { type: "button", class: "btn", onclick: () => shell.close() }, "Cancel"), ok));
    dialog.addEventListener("close", () => { dialog.remove(); resolve(answer); });
    shell.open();
    ok.focus();
  });
}
