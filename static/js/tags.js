// Tags of a location: search as you type (debounced), sort, status and pages without a full reload.
// The form still works as a plain GET form without this file; the URL always holds the state.
(function () {
  "use strict";
  var form = document.getElementById("tag-filters");
  var results = document.getElementById("tag-results");
  if (!form || !results || !window.fetch) return;
  var input = document.getElementById("tag-q");
  var timer = null;
  var inflight = null;

  function queryFromForm() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (value && !(key === "sort" && value === "name")) params.set(key, value);
    });
    return params.toString();
  }

  function load(query, push) {
    if (inflight) inflight.abort();
    inflight = new AbortController();
    var url = window.location.pathname + (query ? "?" + query : "");
    var fetchUrl = url + (query ? "&" : "?") + "partial=1";
    results.setAttribute("aria-busy", "true");
    fetch(fetchUrl, { headers: { "X-Requested-With": "fetch" }, signal: inflight.signal, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        results.innerHTML = html;
        results.setAttribute("aria-busy", "false");
        if (push) window.history.pushState(null, "", url);
        else window.history.replaceState(null, "", url);
      })
      .catch(function (error) {
        if (error.name === "AbortError") return;
        results.setAttribute("aria-busy", "false");
        window.location.href = url;  // fall back to a full page load
      });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { load(queryFromForm(), false); }, 250);
  });
  form.addEventListener("change", function (event) {
    if (event.target !== input) load(queryFromForm(), false);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    window.clearTimeout(timer);
    load(queryFromForm(), false);
  });
  results.addEventListener("click", function (event) {
    var link = event.target.closest(".pager a");
    if (!link) return;
    event.preventDefault();
    load(link.getAttribute("href").replace(/^\?/, ""), true);
    results.scrollIntoView({ block: "start" });
  });
  window.addEventListener("popstate", function () {
    var params = new URLSearchParams(window.location.search);
    input.value = params.get("q") || "";
    form.elements.sort.value = params.get("sort") || "name";
    form.elements.status.value = params.get("status") || "";
    load(window.location.search.replace(/^\?/, ""), null);
  });
})();
