// A run that is still going reloads its page every few seconds (data-poll on the summary), so a bulk
// retry's progress moves on its own; it stops once the run is finished.
(function () {
  "use strict";
  var summary = document.getElementById("run-summary");
  if (!summary || !summary.dataset.poll) return;
  var seconds = Math.max(2, parseInt(summary.dataset.poll, 10) || 5);
  window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
})();
