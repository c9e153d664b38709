// Monitoring pages: fleet overview, heatmap, live miner table and the miner charts.
// Each page holds a container with data-api (a small JSON endpoint) and data-refresh (seconds);
// the script polls it while the tab is visible and redraws in place, without reloading.
(function () {
  "use strict";
  var HI = window.HI || {};
  var t = HI.t || function (s) { return s; };
  var STATE_WORDS = { online: "online", warning: "warning", offline: "offline", nodata: "no data" };
  var grid = "rgba(255, 255, 255, 0.08)";
  var text = "#adb5bd";
  var accent = getComputedStyle(document.documentElement).getPropertyValue("--hi-accent").trim() || "#f7931a";

  function stateWord(state) { return t(STATE_WORDS[state] || state); }

  function fmt(value, decimals) {
    if (value === null || value === undefined || isNaN(value)) { return "—"; }
    return Number(value).toLocaleString(HI.locale || undefined, {
      minimumFractionDigits: decimals, maximumFractionDigits: decimals
    });
  }

  function age(seconds) {
    if (seconds === null || seconds === undefined) { return "—"; }
    if (seconds < 120) { return seconds + " s"; }
    if (seconds < 7200) { return Math.floor(seconds / 60) + " min"; }
    return Math.floor(seconds / 3600) + " h";
  }

  function el(tag, className, content) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (content !== undefined && content !== null) { node.textContent = content; }
    return node;
  }

  function clock(ms) {
    var d = new Date(ms);
    return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  }

  function day(ms) {
    var d = new Date(ms);
    return String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  }

  // Poll `url` every `seconds` while the page is visible; `draw(data)` redraws.
  function poll(container, draw) {
    var url = container.getAttribute("data-api");
    var seconds = parseFloat(container.getAttribute("data-refresh") || "15");
    var status = document.querySelector("[data-monitor-status]");
    var timer = null;
    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(tick, seconds * 1000);
    }
    function tick() {
      if (document.hidden) { schedule(); return; }
      HI.api(url).then(function (data) {
        draw(data);
        container.classList.remove("hi-stale");
        if (status) { status.textContent = t("Updated") + " " + new Date().toLocaleTimeString(); }
      }).catch(function () {
        container.classList.add("hi-stale");
        if (status) { status.textContent = t("Live updates paused: the server did not answer."); }
      }).then(schedule);
    }
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) { tick(); }
    });
    return { start: schedule, now: tick };
  }

  function readJSON(id) {
    var node = document.getElementById(id);
    if (!node) { return null; }
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  // Filter selects send their form as soon as they change.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () {
      var form = select.form;
      var offset = form.querySelector("input[name=offset]");
      if (offset) { offset.value = "0"; }
      form.submit();
    });
  });

  // The x axis spans the whole window (the last 24 hours, the last 90 days) whatever the
  // data covers, so one point does not stretch the axis over years.
  function windowOf(asOf, hours) {
    var end = asOf ? Date.parse(asOf) : Date.now();
    // Ticks every 3 hours (24 h) or 15 days (90 days), on round UTC times.
    var step = (hours <= 24 ? 3 : 15 * 24) * 3600 * 1000;
    return { min: end - hours * 3600 * 1000, max: end, ticks: { stepSize: step } };
  }

  function baseOptions(xFormat, scales, range) {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      parsing: false,
      normalized: true,
      interaction: { mode: "nearest", axis: "x", intersect: false },
      plugins: {
        legend: { labels: { color: text, boxWidth: 12 } },
        decimation: { enabled: true, algorithm: "min-max" },
        tooltip: {
          callbacks: {
            title: function (items) {
              return items.length ? new Date(items[0].parsed.x).toLocaleString() : "";
            }
          }
        }
      },
      scales: Object.assign({
        x: {
          type: "linear",
          min: range ? range.min : undefined,
          max: range ? range.max : undefined,
          ticks: {
            color: text, maxTicksLimit: 9, callback: xFormat,
            stepSize: range ? range.ticks.stepSize : undefined
          },
          grid: { color: grid }
        }
      }, scales)
    };
  }

  function points(times, values, scale) {
    var out = [];
    for (var i = 0; i < times.length; i++) {
      var v = values[i];
      out.push({ x: times[i], y: v === null || v === undefined ? null : v * (scale || 1) });
    }
    return out;
  }

  function line(label, data, color, axis, extra) {
    return Object.assign({
      label: label, data: data, borderColor: color, backgroundColor: color, yAxisID: axis,
      // A lone point (the first 5 minutes) needs a dot to be seen at all.
      borderWidth: 1.5, pointRadius: data.length < 3 ? 3 : 0, spanGaps: false, tension: 0
    }, extra || {});
  }

  function axis(position, title, extra) {
    return Object.assign({
      position: position,
      ticks: { color: text },
      grid: { color: position === "left" ? grid : "transparent" },
      title: { display: true, text: title, color: text }
    }, extra || {});
  }

  if (window.Chart) { Chart.defaults.font.family = getComputedStyle(document.body).fontFamily; }

  // --- fleet overview ----------------------------------------------------------------------

  function fleetPage(container) {
    var chart = null;
    var heatmapUrl = container.getAttribute("data-heatmap-url");
    function count(name, value, decimals) {
      var node = container.querySelector('[data-field="' + name + '"]');
      if (!node) { return; }
      var before = parseFloat(node.getAttribute("data-countup") || "0");
      node.setAttribute("data-countup", String(value));
      if (window.countUp && value !== null && !isNaN(value)) {
        var counter = new window.countUp.CountUp(node, value, {
          startVal: isNaN(before) ? 0 : before, decimalPlaces: decimals || 0, duration: 0.8
        });
        if (!counter.error) { counter.start(); return; }
      }
      node.textContent = fmt(value, decimals || 0);
    }
    function field(name, value) {
      var node = container.querySelector('[data-field="' + name + '"]');
      if (node) { node.textContent = value; }
    }
    function bar(ratio) {
      var node = container.querySelector('[data-field="realized_bar"]');
      if (node) { node.style.width = Math.max(0, Math.min(100, (ratio || 0) * 100)) + "%"; }
    }
    function drawChart(series, asOf) {
      var canvas = document.getElementById("hi-fleet-chart");
      var note = container.querySelector("[data-empty-note]");
      if (note) { note.classList.toggle("d-none", series.t.length > 0); }
      if (!canvas || !window.Chart) { return; }
      var datasets = [
        line(t("Hashrate (TH/s)"), points(series.t, series.hashrate_ths), accent, "y"),
        line(t("Nominal (TH/s)"), points(series.t, series.nominal_ths), "rgba(173, 181, 189, 0.7)", "y", { borderDash: [4, 4] }),
        line(t("Power (kW)"), points(series.t, series.power_w, 0.001), "#4dabf7", "y1")
      ];
      var range = windowOf(asOf, 24);
      if (chart) {
        chart.data.datasets.forEach(function (d, i) {
          d.data = datasets[i].data;
          d.pointRadius = datasets[i].pointRadius;
        });
        chart.options.scales.x.min = range.min;
        chart.options.scales.x.max = range.max;
        chart.update("none");
        return;
      }
      chart = new Chart(canvas, {
        type: "line",
        data: { datasets: datasets },
        options: baseOptions(clock, {
          y: axis("left", "TH/s", { beginAtZero: true }),
          y1: axis("right", "kW", { beginAtZero: true })
        }, range)
      });
    }
    function drawSites(sites) {
      var body = container.querySelector("[data-sites]");
      if (!body) { return; }
      body.textContent = "";
      if (!sites.length) {
        var empty = el("tr");
        var cell = el("td", "text-secondary", t("No telemetry yet."));
        cell.colSpan = 8;
        empty.appendChild(cell);
        body.appendChild(empty);
        return;
      }
      sites.forEach(function (s) {
        var row = el("tr");
        var name = el("td");
        var link = el("a", null, s.name);
        link.href = heatmapUrl + "?site_id=" + encodeURIComponent(s.site_id);
        name.appendChild(link);
        row.appendChild(name);
        [
          fmt(s.online, 0), fmt(s.warning, 0), fmt(s.offline, 0), fmt(s.hashrate_ths, 1),
          s.realized_ratio === null ? "—" : fmt(s.realized_ratio * 100, 1),
          fmt(s.power_w / 1000, 1), s.j_per_th === null ? "—" : fmt(s.j_per_th, 1)
        ].forEach(function (value) { row.appendChild(el("td", "text-end", value)); });
        body.appendChild(row);
      });
    }
    function draw(data) {
      count("online", data.online);
      count("warning", data.warning);
      count("offline", data.offline);
      count("hashrate_phs", data.hashrate_ths / 1000, 2);
      count("power_kw", data.power_w / 1000, 1);
      if (data.j_per_th !== null) { count("j_per_th", data.j_per_th, 1); } else { field("j_per_th", "—"); }
      field("miners", fmt(data.miners, 0));
      field("power_reporting", fmt(data.power_reporting, 0));
      field("nodata", fmt(data.nodata, 0));
      field("nominal_phs", fmt(data.nominal_ths / 1000, 2));
      field("realized_pct", data.realized_ratio === null ? "—" : fmt(data.realized_ratio * 100, 1));
      field("newest_poll", data.newest_poll ? new Date(data.newest_poll).toLocaleString() + " (" + age(data.age_s) + ")" : "—");
      bar(data.realized_ratio);
      drawChart(data.series, data.as_of);
      drawSites(data.sites);
    }
    var first = readJSON("hi-fleet-data");
    if (first) {
      bar(first.realized_ratio);
      drawChart(first.series, first.as_of);
      field("newest_poll", first.newest_poll ? new Date(first.newest_poll).toLocaleString() + " (" + age(first.age_s) + ")" : "—");
    }
    poll(container, draw).start();
  }

  // --- live table ----------------------------------------------------------------------------

  function livePage(container) {
    var body = container.querySelector("[data-rows]");
    function cell(row, value, className) { row.appendChild(el("td", className, value)); }
    function draw(data) {
      body.textContent = "";
      if (!data.items.length) {
        var empty = el("tr");
        var c = el("td", "text-secondary", t("No miners match."));
        c.colSpan = 11;
        empty.appendChild(c);
        body.appendChild(empty);
      }
      data.items.forEach(function (m) {
        var row = el("tr");
        row.setAttribute("data-miner", m.id);
        var first = el("td");
        var link = el("a", null, m.label);
        link.href = m.url;
        first.appendChild(link);
        if (m.error_class) {
          first.appendChild(document.createTextNode(" "));
          first.appendChild(el("span", "badge text-bg-danger", m.error_class));
        }
        row.appendChild(first);
        cell(row, m.model);
        cell(row, m.site + " · " + m.zone + (m.position ? " · " + m.position : ""), "text-nowrap");
        cell(row, m.customer);
        var state = el("td");
        state.appendChild(el("span", "badge hi-badge-" + m.state, stateWord(m.state)));
        row.appendChild(state);
        cell(row, fmt(m.hashrate_ths, 1), "text-end");
        cell(row, m.ratio === null ? "—" : fmt(m.ratio * 100, 0), "text-end");
        cell(row, fmt(m.temp_max_c, 0), "text-end");
        cell(row, fmt(m.power_w, 0), "text-end");
        cell(row, fmt(m.j_per_th, 1), "text-end");
        cell(row, age(m.age_s), "text-end text-nowrap");
        body.appendChild(row);
      });
      container.setAttribute("data-total", String(data.total));
    }
    poll(container, draw).start();
  }

  // --- heatmap ---------------------------------------------------------------------------------

  function heatmapPage(container) {
    var minerUrl = container.getAttribute("data-miner-url");
    var metric = "temp";
    var data = readJSON("hi-heatmap-data");

    function tempClass(temp) {
      if (temp === null) { return null; }
      var steps = [60, 65, 70, 80, (data && data.temp_warning_c) || 85];
      for (var i = 0; i < steps.length; i++) { if (temp < steps[i]) { return "hm-t" + i; } }
      return "hm-t5";
    }
    function ratioClass(pct) {
      if (pct === null) { return null; }
      var low = (data && data.low_ratio_pct) || 80;
      if (pct < low) { return "hm-r0"; }
      if (pct < 90) { return "hm-r1"; }
      if (pct < 95) { return "hm-r2"; }
      if (pct < 100) { return "hm-r3"; }
      return "hm-r4";
    }
    function classFor(c) {
      var state = c[4];
      if (metric === "state" || state === "offline" || state === "nodata") { return "hm-" + state; }
      return (metric === "temp" ? tempClass(c[5]) : ratioClass(c[6])) || "hm-" + state;
    }
    function title(rack, c) {
      var parts = [rack.name + " " + c[2] + "/" + c[3], stateWord(c[4])];
      if (c[5] !== null) { parts.push(fmt(c[5], 0) + " °C"); }
      if (c[7] !== null) { parts.push(fmt(c[7], 1) + " TH/s"); }
      if (c[6] !== null) { parts.push(fmt(c[6], 0) + "% " + t("of nominal")); }
      return parts.join(" · ");
    }
    function draw(fresh) {
      data = fresh;
      if (!data.zones.length) { return; }
      var byRack = {};
      data.cells.forEach(function (c) { byRack[c[1] + ":" + c[2] + ":" + c[3]] = c; });
      var root = document.createDocumentFragment();
      data.zones.forEach(function (zone) {
        var section = el("section", "hi-zone");
        section.appendChild(el("h2", "h6", zone.name));
        var racks = el("div", "hi-racks");
        zone.racks.forEach(function (rack) {
          var box = el("div", "hi-rack");
          box.appendChild(el("div", "hi-rack-name", rack.name));
          var gridNode = el("div", "hi-rack-grid");
          gridNode.style.gridTemplateColumns = "repeat(" + rack.slots + ", auto)";
          for (var row = 1; row <= rack.rows; row++) {
            for (var slot = 1; slot <= rack.slots; slot++) {
              var c = byRack[rack.id + ":" + row + ":" + slot];
              if (!c) {
                var empty = el("span", "hi-cell hm-empty");
                empty.setAttribute("aria-hidden", "true");
                gridNode.appendChild(empty);
                continue;
              }
              var link = el("a", "hi-cell " + classFor(c));
              link.href = minerUrl.replace(/\/0\/$/, "/" + c[0] + "/");
              link.title = title(rack, c);
              link.setAttribute("aria-label", link.title);
              link.setAttribute("data-state", c[4]);
              gridNode.appendChild(link);
            }
          }
          box.appendChild(gridNode);
          racks.appendChild(box);
        });
        section.appendChild(racks);
        root.appendChild(section);
      });
      container.textContent = "";
      container.appendChild(root);
    }
    document.querySelectorAll('input[name="metric"]').forEach(function (input) {
      input.addEventListener("change", function () {
        metric = input.value;
        document.querySelectorAll("[data-legend-for]").forEach(function (node) {
          node.classList.toggle("d-none", node.getAttribute("data-legend-for") !== metric);
        });
        if (data) { draw(data); }
      });
    });
    if (data) { draw(data); }
    poll(container, draw).start();
  }

  // --- one miner -------------------------------------------------------------------------------

  function minerPage(container) {
    var rawChart = null;
    var historyChart = null;
    function set(name, value) {
      var node = container.querySelector('[data-live-field="' + name + '"]');
      if (node) { node.textContent = value; }
    }
    function drawLive(live) {
      var badge = container.querySelector('[data-live-field="state"]');
      var state = live ? live.state : "nodata";
      if (badge) {
        badge.className = "badge hi-badge-" + state;
        badge.textContent = stateWord(state) + (live ? " · " + age(live.age_s) : "");
      }
      if (!live) { return; }
      set("hashrate_ths", fmt(live.hashrate_ths, 2));
      set("ratio", live.ratio === null ? "—" : fmt(live.ratio * 100, 0));
      set("power_w", fmt(live.power_w, 0));
      set("j_per_th", fmt(live.j_per_th, 1));
      set("temp_max_c", fmt(live.temp_max_c, 0));
      set("fans", live.fan_min_rpm === null ? "—" : fmt(live.fan_min_rpm, 0) + " rpm" + (live.fans_failed ? " (" + live.fans_failed + " ✗)" : ""));
      set("boards", live.boards_total ? live.boards_ok + "/" + live.boards_total : "—");
    }
    function upsert(chart, canvasId, datasets, xFormat, scales, range) {
      var canvas = document.getElementById(canvasId);
      if (!canvas || !window.Chart) { return chart; }
      if (chart) {
        chart.data.datasets.forEach(function (d, i) {
          d.data = datasets[i].data;
          d.pointRadius = datasets[i].pointRadius;
        });
        chart.options.scales.x.min = range.min;
        chart.options.scales.x.max = range.max;
        chart.update("none");
        return chart;
      }
      return new Chart(canvas, { type: "line", data: { datasets: datasets }, options: baseOptions(xFormat, scales, range) });
    }
    function draw(data) {
      drawLive(data.live);
      var raw = data.raw;
      rawChart = upsert(rawChart, "hi-miner-raw", [
        line(t("Hashrate (TH/s)"), points(raw.t, raw.hashrate_ths), accent, "y"),
        line(t("Temperature (°C)"), points(raw.t, raw.temp_max_c), "#ff6b6b", "y1"),
        line(t("Power (W)"), points(raw.t, raw.power_w), "#4dabf7", "y2", { hidden: true })
      ], clock, {
        y: axis("left", "TH/s", { beginAtZero: true }),
        y1: axis("right", "°C"),
        y2: axis("right", "W", { display: "auto", beginAtZero: true })
      }, windowOf(data.as_of, 24));
      var h = data.hourly;
      historyChart = upsert(historyChart, "hi-miner-history", [
        line(t("Hashrate (TH/s)"), points(h.t, h.hashrate_ths), accent, "y"),
        line(t("Uptime (%)"), points(h.t, h.uptime, 100), "#69db7c", "y1"),
        line(t("Temperature (°C)"), points(h.t, h.temp_max_c), "#ff6b6b", "y2", { hidden: true })
      ], day, {
        y: axis("left", "TH/s", { beginAtZero: true }),
        y1: axis("right", "%", { min: 0, max: 100 }),
        y2: axis("right", "°C", { display: "auto" })
      }, windowOf(data.as_of, 90 * 24));
      container.querySelectorAll("[data-empty-for]").forEach(function (note) {
        var series = note.getAttribute("data-empty-for") === "raw" ? raw : h;
        note.classList.toggle("d-none", series.t.length > 0);
      });
      container.setAttribute("data-points", String(raw.t.length));
      container.setAttribute("data-hours", String(h.t.length));
    }
    var poller = poll(container, draw);
    poller.now();
  }

  var pages = [
    ["hi-fleet", fleetPage],
    ["hi-live", livePage],
    ["hi-heatmap", heatmapPage],
    ["hi-miner", minerPage]
  ];
  pages.forEach(function (entry) {
    var container = document.getElementById(entry[0]);
    if (container && HI.api) { entry[1](container); }
  });
})();
