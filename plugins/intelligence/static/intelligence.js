// Market analysis charts: price with SMA, EMA and Bollinger bands, and RSI below it.
// The data comes from <script type="application/json" id="intelligence-data"> on the page.
(function () {
  "use strict";
  var node = document.getElementById("intelligence-data");
  if (!node || !window.Chart) { return; }
  var data = JSON.parse(node.textContent);
  var t = window.HI && window.HI.t ? window.HI.t : function (s) { return s; };
  var accent = getComputedStyle(document.documentElement).getPropertyValue("--hi-accent").trim() || "#f7931a";
  var grid = "rgba(255, 255, 255, 0.08)";
  var text = "#adb5bd";

  function line(label, values, color, extra) {
    return Object.assign({
      label: label, data: values, borderColor: color, backgroundColor: color,
      borderWidth: 1.5, pointRadius: 0, spanGaps: false, tension: 0
    }, extra || {});
  }

  function options(extraScales) {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { labels: { color: text, boxWidth: 12 } } },
      scales: Object.assign({
        x: { ticks: { color: text, maxTicksLimit: 8 }, grid: { color: grid } }
      }, extraScales)
    };
  }

  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;

  new Chart(document.getElementById("intelligence-price-chart"), {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [
        line(t("Closing price"), data.close, accent, { borderWidth: 2 }),
        line(t("SMA"), data.sma, "#4dabf7"),
        line(t("EMA"), data.ema, "#69db7c"),
        line(t("Upper band"), data.bollinger_upper, "rgba(173, 181, 189, 0.7)", { borderDash: [4, 4] }),
        line(t("Lower band"), data.bollinger_lower, "rgba(173, 181, 189, 0.7)", { borderDash: [4, 4] })
      ]
    },
    options: options({ y: { ticks: { color: text }, grid: { color: grid } } })
  });

  new Chart(document.getElementById("intelligence-rsi-chart"), {
    type: "line",
    data: { labels: data.labels, datasets: [line(t("RSI"), data.rsi, "#da77f2")] },
    options: options({ y: { min: 0, max: 100, ticks: { color: text }, grid: { color: grid } } })
  });
})();
