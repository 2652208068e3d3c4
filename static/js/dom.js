// DOM building without HTML strings: every text goes through textContent / text nodes.
// Untrusted data (document text, guidelines, model output, names) is safe here by construction.

const PROPS = new Set(["value", "checked", "disabled", "hidden", "selected", "indeterminate", "open",
  "tabIndex", "htmlFor", "type", "name", "id", "title", "placeholder", "required", "readOnly",
  "multiple", "accept", "rows", "maxLength", "min", "max", "step", "download", "href"]);

/**
 * h("button", {class: "btn", onclick: fn, "aria-label": "Close"}, "text", child, [more])
 * Strings become text nodes; null/false/undefined children are skipped.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) setProps(el, props);
  append(el, children);
  return el;
}

export function setProps(el, props) {
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "innerHTML" || k === "outerHTML" || k === "style") {
      throw new Error(`dom.h: ${k} is not allowed`);
    }
    if (k === "class") el.className = Array.isArray(v) ? v.filter(Boolean).join(" ") : String(v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "text") el.textContent = String(v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (PROPS.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  return el;
}

export function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** Replace the children of `el` (null/false skipped, arrays flattened; unlike the native one). */
export function setChildren(el, ...children) {
  clear(el);
  return append(el, children);
}

/** Append children (null/false skipped, arrays flattened; unlike the native one). */
export function addChildren(el, ...children) {
  return append(el, children);
}

/**
 * Keyed list update: make `container`'s children exactly `nodes` in order,
 * moving only the nodes that are out of place (a focused node that stays in
 * place keeps its focus).
 */
export function reconcile(container, nodes) {
  const wanted = new Set(nodes);
  for (const child of Array.from(container.children)) {
    if (!wanted.has(child)) container.removeChild(child);
  }
  let cursor = container.firstElementChild;
  for (const node of nodes) {
    if (node === cursor) {
      cursor = cursor.nextElementSibling;
    } else {
      container.insertBefore(node, cursor);
    }
  }
}

const SVG = "http://www.w3.org/2000/svg";
// Small stroke icons (24x24 grid), drawn here so no external resource is needed.
const ICONS = {
  check: ["M5 12.5l4.5 4.5L19 7.5"],
  x: ["M6 6l12 12", "M18 6L6 18"],
  undo: ["M9 14L4 9l5-5", "M4 9h10.5a5.5 5.5 0 010 11H11"],
  play: ["M7 5l12 7-12 7z"],
  stop: ["M7 7h10v10H7z"],
  sun: ["M12 4V2", "M12 22v-2", "M4 12H2", "M22 12h-2", "M5.6 5.6L4.2 4.2", "M19.8 19.8l-1.4-1.4",
    "M5.6 18.4l-1.4 1.4", "M19.8 4.2l-1.4 1.4", "M12 16a4 4 0 100-8 4 4 0 000 8z"],
  moon: ["M20 14.5A8 8 0 019.5 4a8 8 0 1010.5 10.5z"],
  monitor: ["M3 5h18v11H3z", "M8 20h8", "M12 16v4"],
  help: ["M12 22a10 10 0 100-20 10 10 0 000 20z", "M9.1 9a3 3 0 015.8 1c0 2-3 3-3 3", "M12 17h.01"],
  chart: ["M4 20V10", "M10 20V4", "M16 20v-7", "M22 20H2"],
  download: ["M12 4v11", "M7 10l5 5 5-5", "M5 20h14"],
  send: ["M4 12l16-8-6 16-2.5-6.5z", "M11.5 13.5L20 4"],
  pencil: ["M4 20h4L19 9l-4-4L4 16z", "M13.5 6.5l4 4"],
  trash: ["M4 7h16", "M9 7V4h6v3", "M6 7l1 13h10l1-13"],
  link: ["M10 14a4 4 0 005.7 0l3-3a4 4 0 00-5.7-5.7l-1 1", "M14 10a4 4 0 00-5.7 0l-3 3a4 4 0 005.7 5.7l1-1"],
  plus: ["M12 5v14", "M5 12h14"],
  chevronDown: ["M6 9l6 6 6-6"],
  chevronUp: ["M6 15l6-6 6 6"],
  message: ["M4 5h16v11H9l-5 4z"],
  target: ["M12 21a9 9 0 100-18 9 9 0 000 18z", "M12 16a4 4 0 100-8 4 4 0 000 8z"],
  user: ["M12 12a4 4 0 100-8 4 4 0 000 8z", "M4 21a8 8 0 0116 0"],
  upload: ["M12 16V4", "M7 9l5-5 5 5", "M5 20h14"],
  file: ["M6 3h8l4 4v14H6z", "M14 3v4h4"],
  alert: ["M12 3l10 18H2z", "M12 10v5", "M12 18h.01"],
};

export function icon(name, size = 16) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", String(size));
  svg.setAttribute("height", String(size));
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", "icon");
  for (const d of ICONS[name] || []) {
    const p = document.createElementNS(SVG, "path");
    p.setAttribute("d", d);
    svg.appendChild(p);
  }
  return svg;
}

/** An icon-only button with an accessible name. */
export function iconButton(name, label, props = {}) {
  const { class: extra, ...rest } = props;
  return h("button", { type: "button", "aria-label": label, title: label, ...rest,
    class: ["icon-btn", extra].filter(Boolean).join(" ") }, icon(name));
}

export function pct(x) {
  return `${Math.round(Math.max(0, Math.min(1, Number(x) || 0)) * 100)}%`;
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

/** Is the event target a place where the user types? */
export function isTyping(target) {
  if (!target || !(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    const t = (target.getAttribute("type") || "text").toLowerCase();
    return !["checkbox", "radio", "button", "submit", "reset", "range", "color", "file"].includes(t);
  }
  return false;
}
