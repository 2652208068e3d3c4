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

// ---------------------------------------------------------------------------------------------
// A section's text with its formatting marks (from the server's Markdown parser):
// `marks` are [start, end, kind, attr] over `text` (see redline.jobs.documents, "The text/format
// model"). Every character of `text` ends up, in order, in exactly one text node, so offsets in
// the page (Range.toString) are offsets in the text and quote highlights land on the exact
// characters; the syntax between blocks (list markers, " | ", "> ", line breaks) stays in the DOM,
// hidden. A "soft" line break (the source's line wrap inside a paragraph) is shown as a space: its
// text node holds " " for the "\n", one character for one, so offsets still hold. Only elements
// are created, never HTML parsed; a link's href is kept only when it is http(s) or mailto.

const BLOCK = new Set(["quote", "pre", "table", "tr", "th", "td", "p", "h", "li"]);
const CONTAINER = new Set(["quote", "table", "tr"]);
const INLINE_ORDER = ["code", "del", "em", "strong", "link"]; // innermost first
const SAFE_HREF = /^(https?:\/\/|mailto:)/i;

function validMarks(text, marks) {
  const out = [];
  for (const m of Array.isArray(marks) ? marks : []) {
    if (!Array.isArray(m) || m.length < 3) continue;
    const [start, end, kind] = m;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > text.length || end <= start) continue;
    out.push({ start, end, kind: String(kind), attr: m[3] == null ? "" : String(m[3]) });
  }
  return out;
}

/** Block marks as a tree by containment (they nest; anything that would cross is dropped). */
function blockTree(blocks) {
  const order = { quote: 0, table: 0, pre: 0, tr: 1, p: 2, h: 2, li: 2, th: 3, td: 3 };
  blocks.sort((a, b) => a.start - b.start || b.end - a.end || order[a.kind] - order[b.kind]);
  const root = { start: 0, end: Infinity, kind: "root", children: [] };
  const stack = [root];
  for (const b of blocks) {
    while (stack.length > 1 && stack[stack.length - 1].end <= b.start) stack.pop();
    const parent = stack[stack.length - 1];
    if (b.end > parent.end) continue; // crosses its parent: ignore it
    if (parent.kind !== "root" && !CONTAINER.has(parent.kind)) continue; // leaf blocks hold no blocks
    const node = { ...b, children: [] };
    parent.children.push(node);
    stack.push(node);
  }
  return root;
}

/** [start, end) ranges of "> " prefixes at line starts inside quotes: hidden syntax. */
function quotePrefixes(text, blocks) {
  const out = [];
  for (const q of blocks) {
    if (q.kind !== "quote") continue;
    let i = q.start;
    while (i < q.end) {
      if (i === q.start || text[i - 1] === "\n") {
        let j = i;
        while (j < q.end && (text[j] === ">" || (text[j] === " " && j > i && text[j - 1] === ">"))) j++;
        if (j > i) out.push([i, j]);
      }
      const nl = text.indexOf("\n", i);
      if (nl < 0 || nl >= q.end) break;
      i = nl + 1;
    }
  }
  return out;
}

// The blocks only a Markdown upload has: a Word or PDF upload's marks are its links and its code blocks.
const MARKDOWN_BLOCK = new Set(["quote", "table", "tr", "th", "td", "p", "h", "li"]);

/** Whether `marks` draw the text's blocks (a Markdown upload), not only carry its links and code
 *  blocks (a Word or PDF upload's). */
export function hasBlockMarks(marks) {
  return Array.isArray(marks) && marks.some((m) => Array.isArray(m) && MARKDOWN_BLOCK.has(String(m[2])));
}

/** Whether `marks` carry web links or code blocks (a Word or PDF upload's, drawn over its plain text). */
export function hasWordOrPdfMarks(marks) {
  return Array.isArray(marks) && marks.some((m) => Array.isArray(m) && (m[2] === "link" || m[2] === "pre"));
}

/**
 * A DocumentFragment for `text` with `marks`. `runs` are the highlight runs of quotes.js
 * `segments` ([{start, end, items, ref}], covering the text); `decorate(node, run)` wraps a
 * text node in the run's highlight marks. `plain`: a Word or PDF upload's text, every character
 * shown as written, only its links and its code blocks drawn.
 */
export function renderMarked(text, marks, runs, decorate, { plain = false } = {}) {
  const all = validMarks(text, marks);
  const blocks = all.filter((m) => BLOCK.has(m.kind));
  const inline = all.filter((m) => INLINE_ORDER.includes(m.kind));
  const hidden = quotePrefixes(text, blocks);
  const soft = new Set(all.filter((m) => m.kind === "soft" && m.end === m.start + 1 && text[m.start] === "\n").map((m) => m.start));
  const cuts = new Set([0, text.length]);
  for (const m of [...inline, ...blocks]) { cuts.add(m.start); cuts.add(m.end); }
  for (const at of soft) { cuts.add(at); cuts.add(at + 1); }
  for (const [a, b] of hidden) { cuts.add(a); cuts.add(b); }
  for (const r of runs) { cuts.add(r.start); cuts.add(r.end); }
  const points = [...cuts].filter((p) => p >= 0 && p <= text.length).sort((a, b) => a - b);

  let runAt = 0;
  function runFor(start) {
    while (runAt < runs.length && runs[runAt].end <= start) runAt++;
    if (runAt < runs.length && runs[runAt].start <= start) return runs[runAt];
    return runs.find((r) => r.start <= start && r.end > start) || null;
  }

  /** Text [start, end), cut at every boundary, each piece wrapped in its inline marks. */
  function inlineInto(parent, start, end, hide = false) {
    let i = points.findIndex((p) => p >= start);
    let a = start;
    while (a < end) {
      let b = end;
      for (; i < points.length; i++) if (points[i] > a) { b = Math.min(points[i], end); break; }
      if (i >= points.length) b = end;
      const piece = text.slice(a, b);
      let node = document.createTextNode(b === a + 1 && soft.has(a) ? " " : piece);
      const run = runFor(a);
      if (run) node = decorate(node, run);
      const covering = inline.filter((m) => m.start <= a && m.end >= b);
      for (const kind of INLINE_ORDER) {
        const m = covering.find((c) => c.kind === kind);
        if (!m) continue;
        let el;
        if (kind === "link") {
          if (!SAFE_HREF.test(m.attr)) continue;
          el = document.createElement("a");
          el.href = m.attr;
          el.rel = "noopener noreferrer";
          el.target = "_blank";
        } else {
          el = document.createElement(kind === "strong" ? "strong" : kind === "em" ? "em" : kind === "del" ? "del" : "code");
        }
        el.appendChild(node);
        node = el;
      }
      if (hide || hidden.some(([x, y]) => x <= a && y >= b)) {
        const span = document.createElement("span");
        span.className = "md-syn";
        span.hidden = true;
        span.appendChild(node);
        node = span;
      }
      parent.appendChild(node);
      a = b;
    }
  }

  /** Syntax between blocks: hidden when it is only markers and breaks, shown otherwise. Text
   *  between blocks (a Word upload's paragraphs around its code blocks) is shown without the line
   *  breaks at its edges: the blocks beside it already break the line. */
  function gapInto(parent, start, end) {
    if (end <= start) return;
    if (!plain && /^[\s>|*+\-.\d]*$/.test(text.slice(start, end))) {
      inlineInto(parent, start, end, true);
      return;
    }
    let a = start, b = end;
    while (a < b && text[a] === "\n") a++;
    while (b > a && text[b - 1] === "\n") b--;
    if (a > start) inlineInto(parent, start, a, true);
    inlineInto(parent, a, b);
    if (b < end) inlineInto(parent, b, end, true);
  }

  function leafElement(node) {
    switch (node.kind) {
      case "p": return document.createElement("p");
      case "pre": { const el = document.createElement("pre"); el.className = "md-pre"; return el; }
      case "th": return document.createElement("th");
      case "td": return document.createElement("td");
      case "h": {
        const level = Math.min(6, Math.max(3, (parseInt(node.attr, 10) || 2) + 1));
        const el = document.createElement(`h${level}`);
        el.className = "md-h";
        return el;
      }
      default: return document.createElement("div");
    }
  }

  function containerElement(node) {
    if (node.kind === "quote") return document.createElement("blockquote");
    if (node.kind === "table") {
      const table = document.createElement("table");
      table.className = "md-table";
      return table;
    }
    return document.createElement("tr");
  }

  /** The children of a container (root, quote, table, tr) into `parent`, gaps included. */
  function childrenInto(parent, node, start, end) {
    const tableLike = node.kind === "table" || node.kind === "tr";
    let pos = start;
    let lists = []; // open <ul>/<ol> elements, by depth, while a run of items lasts
    let lastLi = null;
    const kids = node.children;
    for (let k = 0; k < kids.length; k++) {
      const kid = kids[k];
      let el;
      if (kid.kind === "li") {
        const [type, depthText, number] = kid.attr.split(" ");
        const depth = Math.max(0, Math.min(8, parseInt(depthText, 10) || 0));
        const tag = type === "ol" ? "OL" : "UL";
        while (lists.length > depth + 1) lists.pop();
        if (lists.length === depth + 1 && lists[depth].tagName !== tag) lists.pop();
        while (lists.length < depth + 1) {
          const list = document.createElement(tag.toLowerCase());
          list.className = "md-list";
          const holder = lists.length ? (lastLi || lists[lists.length - 1]) : parent;
          holder.appendChild(list);
          lists.push(list);
        }
        el = document.createElement("li");
        if (tag === "OL" && /^\d+$/.test(number || "")) el.value = Number(number);
        gapInto(el, pos, kid.start); // the marker ("- ", "3. ") and the break before it
        inlineInto(el, kid.start, kid.end);
        lists[lists.length - 1].appendChild(el);
        lastLi = el;
        pos = kid.end;
        continue;
      }
      lists = [];
      lastLi = null;
      if (CONTAINER.has(kid.kind)) {
        el = containerElement(kid);
        // a row's break lives hidden at the start of the row (a hidden node makes no table box)
        gapInto(tableLike ? el : parent, pos, kid.start);
        childrenInto(el, kid, kid.start, kid.end);
      } else {
        el = leafElement(kid);
        if (tableLike) gapInto(el, pos, kid.start); // " | " and row breaks live in the next cell
        else gapInto(parent, pos, kid.start);
        inlineInto(el, kid.start, kid.end);
      }
      if (node.kind === "table" && kid.kind === "tr") {
        let section = parent.querySelector(":scope > tbody");
        if (!section) { section = document.createElement("tbody"); parent.appendChild(section); }
        section.appendChild(el);
      } else {
        parent.appendChild(el);
      }
      pos = kid.end;
    }
    if (end > pos) {
      const last = lastLi || (tableLike ? lastCell(parent) : null);
      gapInto(last || parent, pos, end);
    }
  }

  function lastCell(el) {
    const cells = el.querySelectorAll("th, td");
    return cells.length ? cells[cells.length - 1] : null;
  }

  const frag = document.createDocumentFragment();
  const tree = blockTree(blocks);
  childrenInto(frag, tree, 0, text.length);
  return frag;
}
