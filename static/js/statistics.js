// Statistics pages: charts (Chart.js) drawn from the JSON API's answer. The first answer comes embedded
// in the page (json_script "stats-config"); changing a control fetches the API again and redraws cards,
// charts, tables and the ranking, keeping the state in the URL. The table view is the charts' text twin.
(function () {
  "use strict";
  var source = document.getElementById("stats-config");
  if (!source) return;
  var config = JSON.parse(source.textContent);
  var root = document.getElementById("stats-root");
  var form = document.getElementById("stats-controls");
  var view = config.view;
  var data = config.initial;
  var charts = {};
  var COLORS = { facebook: "#2f5bd3", instagram: "#c13584", linkedin: "#0a66c2", google: "#176b3a",
                 tiktok: "#1c2230", youtube: "#b42318", pinterest: "#8a5a00", twitter: "#5a6272", all: "#5a6272" };
  var EXTRA = ["#6b4fbb", "#00838f", "#ad1457", "#558b2f"];
  var GAUGES = config.gauges || ["followers"];

  function color(platform, index) { return COLORS[platform] || EXTRA[index % EXTRA.length]; }
  function fmt(value) { return value === null || value === undefined ? "–" : Number(value).toLocaleString("en-US"); }
  function cap(text) { return text ? text.charAt(0).toUpperCase() + text.slice(1) : text; }
  // Platforms as the server spells them ("LinkedIn", "TikTok"); cap() only for one it did not name.
  var PLATFORM_LABELS = config.platform_labels || {};
  function platformLabel(platform) { return PLATFORM_LABELS[platform] || cap(platform); }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function params() {
    var query = new URLSearchParams();
    new FormData(form).forEach(function (value, key) { if (value) query.set(key, value); });
    if (query.get("range") === "custom" && query.get("start") && query.get("end")) query.delete("range");
    else { query.delete("start"); query.delete("end"); if (query.get("range") === "custom") query.set("range", "30d"); }
    return query;
  }

  function draw(id, type, labels, datasets, options) {
    var canvas = document.getElementById(id);
    if (!canvas || !window.Chart) return;
    if (charts[id]) charts[id].destroy();
    charts[id] = new window.Chart(canvas, {
      type: type, data: { labels: labels, datasets: datasets },
      options: Object.assign({ responsive: true, maintainAspectRatio: false, animation: false,
                               plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } } }, options || {})
    });
  }

  function renderCards() {
    var box = document.getElementById("stat-cards");
    box.textContent = "";
    var metrics = Object.keys(data.metrics);
    if (!metrics.length) { box.appendChild(el("p", { "class": "card", id: "stats-empty" }, "No statistics for this range yet.")); }
    metrics.forEach(function (metric) {
      var m = data.metrics[metric];
      var card = el("div", { "class": "card stat", "data-metric": metric, "data-total": m.total === null ? "" : m.total });
      card.appendChild(el("div", { "class": "muted small" }, cap(metric) + (metric === "followers" ? " (latest)" : "")));
      card.appendChild(el("div", { "class": "value" }, m.total === null ? "n/a" : fmt(m.total)));
      var change = el("div", { "class": "small change" });
      if (m.change_pct !== null) {
        change.appendChild(el("span", { "class": m.change_pct >= 0 ? "up" : "down" },
          (m.change_pct >= 0 ? "▲ +" : "▼ ") + m.change_pct + "%"));
        change.appendChild(document.createTextNode(" vs previous"));
      } else { change.appendChild(el("span", { "class": "muted" }, data.compare ? "no previous data" : "\u00a0")); }
      card.appendChild(change);
      box.appendChild(card);
    });
  }

  function renderCharts() {
    var grid = document.getElementById("charts");
    Object.keys(data.metrics).forEach(function (metric) {
      if (!document.getElementById("chart-" + metric)) {
        var figure = el("figure", { "class": "card chart-card", "data-metric": metric });
        var caption = el("figcaption");
        caption.appendChild(el("strong", {}, cap(metric)));
        figure.appendChild(caption);
        var holder = el("div", { "class": "chart-box" });
        holder.appendChild(el("canvas", { id: "chart-" + metric, role: "img", "aria-label": cap(metric) + " per day by platform" }));
        figure.appendChild(holder);
        grid.appendChild(figure);
      }
    });
    Array.prototype.forEach.call(grid.querySelectorAll("figure[data-metric]"), function (figure) {
      figure.hidden = !data.metrics[figure.getAttribute("data-metric")];
    });
    Object.keys(data.metrics).forEach(function (metric) {
      if (GAUGES.indexOf(metric) >= 0) drawGauge(metric); else drawStack(metric);
    });
    renderBreakdown();
    var demo = data.demographics;
    var gender = demo ? Object.keys(demo.gender) : [];
    var ages = demo ? Object.keys(demo.age) : [];
    draw("chart-gender", "doughnut", gender.map(cap),
      [{ data: gender.map(function (k) { return demo.gender[k]; }), backgroundColor: ["#2f5bd3", "#c13584", "#5a6272"] }]);
    draw("chart-age", "bar", ages, [{ label: "Followers", data: ages.map(function (k) { return demo.age[k]; }),
                                      backgroundColor: "#2f5bd3" }], { plugins: { legend: { display: false } } });
  }

  // A flow (impressions, likes, ...) per day: bars stacked by platform, the previous period as a line.
  function drawStack(metric) {
    var m = data.metrics[metric];
    var platforms = Object.keys(m.by_platform);
    var sets = platforms.map(function (platform, i) {
      return { label: platformLabel(platform), backgroundColor: color(platform, i),
               data: m.by_platform[platform].series.map(function (p) { return p.value; }) };
    });
    if (m.previous_series) {
      // Its own stack, so it is drawn over the bars rather than stacked on them; day n against day n.
      sets.push({ type: "line", label: "Previous period (all platforms)", stack: "previous", order: -1,
                  borderColor: "#1f2430", borderDash: [5, 4], borderWidth: 1.5, pointRadius: 0, fill: false,
                  spanGaps: false, data: m.previous_series.map(function (p) { return p.value; }) });
    }
    draw("chart-" + metric, "bar", m.series.map(function (p) { return p.date.slice(5); }), sets,
      { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } });
  }

  // An audience size (followers): one line per platform and one for all of them, never stacked; the card
  // shows the all-platform line's last point.
  function drawGauge(metric) {
    var m = data.metrics[metric];
    var platforms = Object.keys(m.by_platform);
    var line = function (label, colour, series, extra) {
      return Object.assign({ type: "line", label: label, borderColor: colour, backgroundColor: colour, fill: false,
                             pointRadius: 0, borderWidth: 2, spanGaps: false,
                             data: series.map(function (p) { return p.value; }) }, extra || {});
    };
    var sets = platforms.map(function (platform, i) {
      return line(platformLabel(platform), color(platform, i), m.by_platform[platform].series);
    });
    if (platforms.length > 1) sets.push(line("All platforms", "#1f2430", m.series, { borderDash: [5, 4] }));
    draw("chart-" + metric, "line", m.series.map(function (p) { return p.date.slice(5); }), sets,
      { scales: { y: { beginAtZero: false } } });
  }

  function renderBreakdown() {
    var select = document.getElementById("breakdown-metric");
    var metrics = Object.keys(data.metrics);
    var current = select.value;
    select.textContent = "";
    metrics.forEach(function (metric) { select.appendChild(el("option", { value: metric }, cap(metric))); });
    if (metrics.indexOf(current) >= 0) select.value = current;
    var m = data.metrics[select.value];
    var platforms = m ? Object.keys(m.by_platform) : [];
    draw("chart-breakdown", "bar", platforms.map(platformLabel), [{
      label: cap(select.value), data: platforms.map(function (p) { return m.by_platform[p].total; }),
      backgroundColor: platforms.map(color)
    }], { indexAxis: "y", plugins: { legend: { display: false } } });
  }

  function table(headers, rows, attrs) {
    var wrap = el("div", { "class": "table-wrap" });
    var t = el("table", attrs || {});
    var head = el("tr");
    headers.forEach(function (h, i) { head.appendChild(el("th", { scope: "col", "class": i ? "num" : "" }, h)); });
    t.appendChild(el("thead")).appendChild(head);
    var body = t.appendChild(el("tbody"));
    rows.forEach(function (row) {
      var tr = body.appendChild(el("tr"));
      tr.appendChild(el("th", { scope: "row" }, row[0]));
      row.slice(1).forEach(function (v) { tr.appendChild(el("td", { "class": "num" }, fmt(v))); });
    });
    wrap.appendChild(t);
    return wrap;
  }

  function renderTables() {
    var area = document.getElementById("tables-area");
    area.textContent = "";
    var metrics = Object.keys(data.metrics);
    area.appendChild(el("h2", {}, "By platform"));
    area.appendChild(table(["Platform"].concat(metrics.map(cap)), data.platforms.map(function (p) {
      return [platformLabel(p)].concat(metrics.map(function (m) { var e = data.metrics[m].by_platform[p]; return e ? e.total : null; }));
    }), { "data-testid": "by-platform" }));
    if (data.demographics) {
      var d = data.demographics;
      area.appendChild(el("h2", {}, "Audience"));
      area.appendChild(table(["Group", "Followers"], Object.keys(d.gender).map(function (k) { return [cap(k), d.gender[k]]; })
        .concat(Object.keys(d.age).map(function (k) { return ["Age " + k, d.age[k]]; })), { "data-testid": "demographics" }));
    }
    metrics.forEach(function (metric) {
      var m = data.metrics[metric];
      var platforms = Object.keys(m.by_platform);
      area.appendChild(el("h2", {}, cap(metric) + " per day"));
      area.appendChild(table(["Date", "All"].concat(platforms.map(platformLabel)), m.series.map(function (point, i) {
        return [point.date, point.value].concat(platforms.map(function (p) { return m.by_platform[p].series[i].value; }));
      }), { "data-metric-table": metric }));
    });
  }

  function renderRanking() {
    var body = document.getElementById("ranking-rows");
    if (!body || !data.ranking) return;
    body.textContent = "";
    document.getElementById("rank-label").textContent = form.elements.rank.value;
    data.ranking.forEach(function (row, i) {
      var tr = body.appendChild(el("tr"));
      tr.appendChild(el("td", { "class": "num" }, String(i + 1)));
      var th = tr.appendChild(el("th", { scope: "row" }));
      th.appendChild(el("a", { href: config.location_url.replace("LOCATION_ID", encodeURIComponent(row.id)) }, row.name));
      tr.appendChild(el("td", { "class": "num" }, fmt(row.total)));
      tr.appendChild(el("td", { "class": "num" }, fmt(row.previous_total)));
      tr.appendChild(el("td", { "class": "num" }, row.change_pct === null ? "–" : row.change_pct + "%"));
    });
  }

  function renderAll() {
    root.setAttribute("data-start", data.start);
    root.setAttribute("data-end", data.end);
    root.setAttribute("data-platform", data.platform || "");
    document.getElementById("stats-range-text").textContent = data.start + " to " + data.end +
      (data.compare ? ", compared with " + data.previous_start + " to " + data.previous_end : "") +
      ". Dates in " + data.timezone + "; days without data are gaps, not zeros.";
    renderCards();
    if (view === "chart") renderCharts();
    renderTables();
    renderRanking();
  }

  function syncUrl(query) {
    var state = new URLSearchParams(query);
    if (view === "table") state.set("view", "table");
    window.history.replaceState(null, "", window.location.pathname + "?" + state.toString());
    var exportLink = document.getElementById("export-stats");
    if (exportLink) {
      var csv = new URLSearchParams(query);
      csv.delete("rank");
      csv.set("format", "csv");
      exportLink.href = config.api_url + "?" + csv.toString();
    }
  }

  function refetch() {
    var query = params();
    document.getElementById("custom-range").hidden = form.elements.range.value !== "custom";
    if (form.elements.range.value === "custom" && !(query.get("start") && query.get("end"))) return;
    root.setAttribute("data-state", "loading");
    root.setAttribute("aria-busy", "true");
    syncUrl(query);
    fetch(config.api_url + "?" + query.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json().then(function (body) { return [response.ok, body]; }); })
      .then(function (answer) {
        if (!answer[0]) throw new Error(answer[1].error ? answer[1].error.message : "request failed");
        data = answer[1];
        renderAll();
        root.setAttribute("data-state", "ready");
        root.removeAttribute("aria-busy");
      })
      .catch(function (error) {
        root.setAttribute("data-state", "error");
        root.removeAttribute("aria-busy");
        document.getElementById("stats-range-text").textContent = "Could not load the statistics: " + error.message;
      });
  }

  form.addEventListener("change", function (event) {
    if (event.target.id === "stats-account" && event.target.value) form.elements.platform.value = "";
    refetch();
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); refetch(); });
  document.getElementById("breakdown-metric").addEventListener("change", renderBreakdown);
  document.getElementById("view-toggle").addEventListener("click", function (event) {
    event.preventDefault();
    view = view === "chart" ? "table" : "chart";
    document.getElementById("charts-area").hidden = view !== "chart";
    document.getElementById("tables-area").hidden = view !== "table";
    this.setAttribute("aria-pressed", view === "table" ? "true" : "false");
    this.textContent = view === "table" ? "Show charts" : "Show as tables";
    if (view === "chart") renderCharts();
    else renderTables();  // the page came with the charts: its daily tables are built here
    syncUrl(params());
  });
  document.getElementById("custom-range").hidden = form.elements.range.value !== "custom";
  if (view === "chart") renderCharts();
})();
