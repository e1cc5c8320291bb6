// A tag's page: posts per week, engagement per post by week, and the growth of its best and weakest posts
// over their first 30 days, drawn with Chart.js from the JSON embedded by the page (json_script
// "tag-performance-data"). The page also shows the weeks as a table, so nothing depends on this script.
(function () {
  "use strict";
  var source = document.getElementById("tag-performance-data");
  if (!source || typeof Chart === "undefined") return;
  var data = JSON.parse(source.textContent);
  var PALETTE = ["#2f5bd3", "#176b3a", "#c13584", "#0a66c2", "#8a5a00", "#b42318", "#6b4fbb", "#00838f",
                 "#ad1457", "#558b2f"];
  var labels = data.weeks.map(function (w) { return w.week; });

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) new Chart(canvas, config);
  }
  var common = { responsive: true, maintainAspectRatio: false, plugins: { legend: { display: false } },
                 scales: { y: { beginAtZero: true } } };
  draw("chart-posts", { type: "bar", options: common, data: { labels: labels, datasets: [
    { label: "Published posts", data: data.weeks.map(function (w) { return w.posts; }), backgroundColor: "#2f5bd3" }] } });
  draw("chart-epp", { type: "line", options: common, data: { labels: labels, datasets: [
    { label: "Engagement per post", data: data.weeks.map(function (w) { return w.engagement_per_post; }),
      borderColor: "#176b3a", backgroundColor: "#176b3a", spanGaps: true, tension: 0.2 }] } });
  var days = [];
  for (var d = 0; d <= 30; d++) days.push("Day " + d);
  draw("chart-growth", { type: "line", data: { labels: days, datasets: data.growth.map(function (line, i) {
      return { label: line.label, data: line.points.map(function (p) { return p.engagement; }),
               borderColor: PALETTE[i % PALETTE.length], backgroundColor: PALETTE[i % PALETTE.length],
               spanGaps: true, tension: 0.2, pointRadius: 1 };
    }) },
    options: { responsive: true, maintainAspectRatio: false, scales: { y: { beginAtZero: true } },
               plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } } } });
})();
