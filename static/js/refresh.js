// "Refresh now": start a refresh through the JSON API, poll the run's progress, then reload the list.
// Without JavaScript the button posts a plain form and the page says a refresh is under way.
(function () {
  "use strict";
  var source = document.getElementById("refresh-config");
  if (!source || !window.fetch) return;
  var config = JSON.parse(source.textContent);
  var form = document.getElementById("refresh-form");
  var button = document.getElementById("refresh-button");
  var box = document.getElementById("refresh-status");
  var text = document.getElementById("refresh-text");
  var bar = document.getElementById("refresh-progress");
  var LABELS = { queued: "Queued", running: "Refreshing", waiting: "Waiting to try again",
                 succeeded: "Done", failed: "Failed", skipped: "Another refresh was already running" };

  // "attempt 1 failed; next attempt at 14:03:10: <the error>" while a run waits to try again.
  function retrying(run) {
    if (run.status !== "waiting" || !run.next_attempt_at) return "";
    var at = new Date(run.next_attempt_at).toLocaleTimeString();
    var error = (run.error || "").replace("will try again: ", "");  // the line says so already
    return " · attempt " + run.attempt + " failed; next attempt at " + at + (error ? ": " + error : "");
  }

  function show(message) {
    box.hidden = false;
    text.textContent = message;
  }

  function poll(runId) {
    var url = config.run_url.replace(/\/0\/$/, "/" + runId + "/");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (run) {
        if (run.error && !run.status) throw new Error(run.error.message);
        var total = run.progress.total || 1;
        bar.max = total;
        bar.value = Math.min(run.progress.done, total);
        show((LABELS[run.status] || run.status) + " · " + run.progress.done + " of " + run.progress.total +
             " (run #" + run.id + ")" + retrying(run));
        if (run.status === "succeeded" || run.status === "skipped") {
          show("Refreshed. Reloading the list…");
          window.location.reload();
        } else if (run.status === "failed") {
          show(run.error ? "The refresh failed: " + run.error + "." : "The refresh failed; an admin can see why on Operations.");
          if (button) button.disabled = false;
        } else {
          window.setTimeout(function () { poll(runId); }, 1000);
        }
      })
      .catch(function (error) {
        show("Could not read the refresh's progress (" + error.message + ").");
        if (button) button.disabled = false;
      });
  }

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      show("Starting a refresh…");
      fetch(config.refresh_url, {
        method: "POST", credentials: "same-origin",
        headers: { "X-CSRFToken": form.elements.csrfmiddlewaretoken.value, Accept: "application/json" }
      })
        .then(function (response) { return response.json().then(function (body) { return [response.status, body]; }); })
        .then(function (answer) {
          if (answer[0] !== 202) throw new Error(answer[1].error ? answer[1].error.message : "HTTP " + answer[0]);
          poll(answer[1].id);
        })
        .catch(function (error) {
          show(error.message);
          button.disabled = false;
        });
    });
  }
  if (config.run_id) poll(config.run_id);
})();
