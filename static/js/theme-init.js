// Runs before the first paint (a classic script in <head>; CSP allows 'self'): picks the
// theme from ?theme=dark|light, else the reviewer's saved choice, else the system setting.
(function () {
  var root = document.documentElement;
  var forced = null;
  try {
    forced = new URLSearchParams(location.search).get("theme");
  } catch (e) { /* old browser */ }
  var saved = null;
  try { saved = localStorage.getItem("redline.theme"); } catch (e) { /* storage off */ }
  var theme = forced === "dark" || forced === "light" ? forced : (saved === "dark" || saved === "light" ? saved : null);
  if (theme) root.setAttribute("data-theme", theme);
  if (forced === "dark" || forced === "light") root.setAttribute("data-theme-forced", "");
})();
