// Recent reviews of this browser (localStorage): id, title, token, when opened.

const KEY = "redline.recent";
const MAX = 20;

export function listRecent() {
  try {
    const list = JSON.parse(localStorage.getItem(KEY) || "[]");
    return Array.isArray(list) ? list.filter((r) => r && typeof r.id === "string" && typeof r.token === "string") : [];
  } catch {
    return [];
  }
}

function save(list) {
  try { localStorage.setItem(KEY, JSON.stringify(list.slice(0, MAX))); } catch { /* full or off */ }
}

export function rememberReview({ id, title, token }) {
  const list = listRecent().filter((r) => r.id !== id);
  const prev = listRecent().find((r) => r.id === id);
  list.unshift({ id, title: title || (prev && prev.title) || "Untitled review", token, at: Date.now() });
  save(list);
}

export function forgetReview(id) {
  save(listRecent().filter((r) => r.id !== id));
}

export function recentToken(id) {
  const r = listRecent().find((x) => x.id === id);
  return r ? r.token : null;
}
