// KPI dashboard: the daily trend charts (uptime; hashrate and energy) from the report's series,
// and the custom date fields shown only for a custom period. No inline styles (strict CSP).
(function () {
  "use strict";
  var HI = window.HI || {};
  var t = HI.t || function (s) { return s; };
  var grid = "rgba(255, 255, 255, 0.08)";
  var text = "#adb5bd";
  var accent = getComputedStyle(document.documentElement).getPropertyValue("--hi-accent").trim() || "#f7931a";

  // Custom dates only when the period is "custom".
  var period = document.querySelector("[data-kpi-period]");
  function toggleCustom() {
    var custom = period && period.value === "custom";
    document.querySelectorAll("[data-kpi-custom]").forEach(function (node) {
      node.classList.toggle("d-none", !custom);
      node.querySelectorAll("input").forEach(function (input) { input.disabled = !custom; });
    });
  }
  if (period) { period.addEventListener("change", toggleCustom); toggleCustom(); }

  function readJSON(id) {
    var node = document.getElementById(id);
    if (!node) { return null; }
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  function percent(values) {
    return (values || []).map(function (v) { return v === null || v === undefined ? null : v * 100; });
  }

  function dataset(label, data, color, axis, extra) {
    var out = {
      label: label, data: data, borderColor: color, backgroundColor: color,
      yAxisID: axis || "y", tension: 0.2, pointRadius: data.length > 40 ? 0 : 2, spanGaps: true
    };
    Object.keys(extra || {}).forEach(function (k) { out[k] = extra[k]; });
    return out;
  }

  function axes(left, right) {
    var scales = {
      x: { ticks: { color: text, maxRotation: 0, autoSkip: true }, grid: { color: grid } },
      y: { ticks: { color: text }, grid: { color: grid }, title: { display: true, text: left, color: text } }
    };
    if (right) {
      scales.y1 = { position: "right", ticks: { color: text }, grid: { display: false },
        title: { display: true, text: right, color: text } };
    }
    return scales;
  }

  function options(scales) {
    return {
      responsive: true, maintainAspectRatio: false, animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { labels: { color: text, boxWidth: 12 } } },
      scales: scales
    };
  }

  var series = readJSON("hi-kpi-series");
  if (!series || !window.Chart) { return; }
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  var labels = (series.days || []).map(function (d) { return d.slice(5); });
  var total = series.total || {};

  var uptime = document.getElementById("hi-kpi-uptime");
  if (uptime) {
    var scales = axes("%");
    scales.y.suggestedMin = 0;
    scales.y.suggestedMax = 100;
    new Chart(uptime, {
      type: "line",
      data: {
        labels: labels,
        datasets: [
          dataset(t("Reachable uptime (%)"), percent(total.reachable_uptime), "#4dabf7"),
          dataset(t("Reachable, excluding excused (%)"), percent(total.reachable_uptime_excl), "#4dabf7", "y", { borderDash: [4, 4] }),
          dataset(t("Hashing uptime (%)"), percent(total.hashing_uptime), accent),
          dataset(t("Hashing, excluding excused (%)"), percent(total.hashing_uptime_excl), accent, "y", { borderDash: [4, 4] })
        ]
      },
      options: options(scales)
    });
  }

  var hashrate = document.getElementById("hi-kpi-hashrate");
  if (hashrate) {
    new Chart(hashrate, {
      data: {
        labels: labels,
        datasets: [
          dataset(t("Realized hashrate (TH/s)"), total.hashrate_ths || [], accent, "y", { type: "line" }),
          dataset(t("Nominal (TH/s)"), total.nominal_ths || [], "rgba(173, 181, 189, 0.7)", "y", { type: "line", borderDash: [4, 4] }),
          dataset(t("Energy (kWh)"), total.energy_kwh || [], "rgba(77, 171, 247, 0.35)", "y1", { type: "bar" })
        ]
      },
      options: options(axes("TH/s", "kWh"))
    });
  }
})();
