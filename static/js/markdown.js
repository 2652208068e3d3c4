// A small, safe Markdown subset for model output: paragraphs, line breaks, bullet and
// numbered lists, **bold**, *italic*, `code`. Built from DOM nodes only; every character
// of the input ends up in a text node, so no markup of the input is ever interpreted.

const INLINE = /(`[^`\n]+`|\*\*[^*\n]+?\*\*|__[^_\n]+?__|\*[^*\s][^*\n]*?\*)/g;

/** Inline spans of one line of text, appended to `parent`. */
export function appendInline(parent, text) {
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
    const tok = m[0];
    let el;
    if (tok.startsWith("`")) {
      el = document.createElement("code");
      el.textContent = tok.slice(1, -1);
    } else if (tok.startsWith("**") || tok.startsWith("__")) {
      el = document.createElement("strong");
      el.textContent = tok.slice(2, -2);
    } else {
      el = document.createElement("em");
      el.textContent = tok.slice(1, -1);
    }
    parent.appendChild(el);
    last = m.index + tok.length;
  }
  if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  return parent;
}

const BULLET = /^\s*[-*•]\s+(.*)$/;
const NUMBERED = /^\s*(\d{1,3})[.)]\s+(.*)$/;
const HEADING = /^\s{0,3}#{1,6}\s+(.*)$/;

/** A DocumentFragment for `text` (light Markdown). */
export function renderMarkdown(text) {
  const frag = document.createDocumentFragment();
  const lines = String(text ?? "").replace(/\r\n?/g, "\n").split("\n");
  let para = null; // current <p>
  let list = null; // current <ul>/<ol>
  const endBlocks = () => { para = null; list = null; };
  for (const raw of lines) {
    const line = raw.replace(/\s+$/, "");
    if (!line.trim()) { endBlocks(); continue; }
    let m;
    if ((m = BULLET.exec(line)) || (m = NUMBERED.exec(line))) {
      const ordered = m.length === 3;
      const tag = ordered ? "OL" : "UL";
      if (!list || list.tagName !== tag) {
        list = document.createElement(tag.toLowerCase());
        if (ordered && m[1] !== "1") list.start = Number(m[1]);
        frag.appendChild(list);
      }
      para = null;
      const li = document.createElement("li");
      appendInline(li, ordered ? m[2] : m[1]);
      list.appendChild(li);
      continue;
    }
    if ((m = HEADING.exec(line))) {
      endBlocks();
      const p = document.createElement("p");
      p.className = "md-heading";
      const strong = document.createElement("strong");
      appendInline(strong, m[1]);
      p.appendChild(strong);
      frag.appendChild(p);
      continue;
    }
    if (list && /^\s{2,}\S/.test(raw) && list.lastElementChild) {
      // continuation of a list item
      list.lastElementChild.appendChild(document.createTextNode(" "));
      appendInline(list.lastElementChild, line.trim());
      continue;
    }
    list = null;
    if (!para) {
      para = document.createElement("p");
      frag.appendChild(para);
    } else {
      para.appendChild(document.createElement("br"));
    }
    appendInline(para, line);
  }
  return frag;
}
