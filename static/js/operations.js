// The operations page's four small charts of the last 7 days. Data comes from the page itself
// (json_script "ops-charts"); without JavaScript or Chart.js the tables still say everything.
(function () {
  "use strict";
  var source = document.getElementById("ops-charts");
  if (!source || !window.Chart) return;
  var data = JSON.parse(source.textContent);
  var labels = data.labels.map(function (day) { return day.slice(5); });
  var colors = { ok: "#176b3a", bad: "#b42318", primary: "#2f5bd3", warn: "#8a5a00" };
  var base = {
    responsive: true,
    aspectRatio: 1.4,
    animation: false,
    plugins: { legend: { labels: { boxWidth: 12 } } },
    scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
  };

  function chart(id, type, datasets, extra) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    new window.Chart(canvas, {
      type: type,
      data: { labels: labels, datasets: datasets },
      options: Object.assign({}, base, extra || {})
    });
  }

  chart("chart-runs", "bar", [
    { label: "Succeeded", data: data.runs_succeeded, backgroundColor: colors.ok },
    { label: "Failed", data: data.runs_failed, backgroundColor: colors.bad }
  ], { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } });
  chart("chart-calls", "bar", [
    { label: "Calls", data: data.calls, backgroundColor: colors.primary },
    { label: "429s", data: data.throttled, backgroundColor: colors.bad },
    { label: "Retries", data: data.retries, backgroundColor: colors.warn }
  ]);
  chart("chart-latency", "line", [
    { label: "p95 ms", data: data.p95, borderColor: colors.primary, backgroundColor: colors.primary, spanGaps: true }
  ]);
  chart("chart-quota", "line", [
    { label: "% used", data: data.quota_pct, borderColor: colors.warn, backgroundColor: colors.warn, spanGaps: true }
  ], { scales: { y: { beginAtZero: true, suggestedMax: 100 } } });
})();
